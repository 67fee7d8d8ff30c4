"""The studio on a real Ray cluster, as processes: PostgreSQL, a Ray head, two worker nodes
and ``abacus serve --executor ray --db postgresql+psycopg://...``, driven through the HTTP
API and the websocket. Loopback only: these tests run only inside a network namespace that
has nothing but loopback (``bin/test`` runs pytest in one, as root).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from backend.worker.loopback import LoopbackCluster, free_port, in_loopback_namespace
from tests.api.helpers import jpeg_bytes, make_image_folder, resume_graph, tiny_graph, wait_for
from tests.conftest import SHARED_DATA

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(not in_loopback_namespace(),
                       reason="Ray cluster tests need a network namespace with only loopback (bin/test makes one "
                              "as root)"),
]
REPO = Path(__file__).resolve().parents[2]


class Studio:
    """``abacus serve`` as a process; its output goes to a log file."""

    def __init__(self, home: Path, args: list[str], env: dict[str, str]) -> None:
        self.port = free_port()
        self.home = home
        self.log_path = home / "serve.log"
        home.mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", str(self.port),
                                      "--home", str(home), "--log-level", "warning", *args],
                                     # automatic resume on (the default): a run a dying node cut off is resumed
                                     cwd=REPO, env={**env, "ABACUS_TRAIN_STEP_DELAY_S": str(DELAY_S)},
                                     stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = httpx.Client(base_url=self.url, timeout=60)

    def wait_up(self, timeout: float = 120.0) -> "Studio":
        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"abacus serve exited: {self.output()}")
            try:
                return self.http.get("/api/health").status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, timeout, 0.3, "the studio to start")
        return self

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        self.http.close()
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()

    # -- runs ------------------------------------------------------------------------------
    def project(self, graph: dict, name: str) -> int:
        r = self.http.post("/api/projects", json={"name": name, "graph": graph})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def start(self, pid: int, targets: list[str], graph: dict | None = None) -> str:
        body = {"targets": targets, "mode": "to", **({"graph": graph} if graph is not None else {})}
        r = self.http.post(f"/api/projects/{pid}/runs", json=body)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def wait(self, run_id: str, timeout: float = 240.0) -> dict:
        try:
            return wait_for(lambda: (r := self.http.get(f"/api/runs/{run_id}").json())["status"]
                            not in ("queued", "running") and r, timeout, 0.2, f"run {run_id} to end")
        except AssertionError as err:
            self.log.flush()
            said = [line for line in self.log_path.read_text(errors="replace").splitlines() if "state-dump" not in line]
            raise AssertionError(f"{err}; its events: {self.events(run_id)[-5:]}; the studio said: "
                                 + "\n".join(said)[-3000:]) from None

    def events(self, run_id: str) -> list[dict]:
        return self.http.get(f"/api/runs/{run_id}/events").json()

    def resumed_from(self, run_id: str, project: int, timeout: float = 60.0) -> dict:
        """The run that resumes ``run_id`` (the studio's automatic resume)."""
        return wait_for(lambda: next((r for r in self.http.get("/api/runs", params={"project_id": project}).json()
                                      if r["resumed_from"] == run_id), None), timeout, 0.2,
                        f"a run resuming {run_id}")

    def ws_events(self, run_id: str) -> list[dict]:
        """Every event of a run through the websocket (replay, then live until it closes)."""
        out: list[dict] = []
        with connect(f"ws://127.0.0.1:{self.port}/api/ws/runs/{run_id}?after=0") as ws:
            try:
                while True:
                    data = json.loads(ws.recv(timeout=240))
                    out.extend(data if isinstance(data, list) else [data])
            except ConnectionClosed:
                pass
        return out


def of(events: list[dict], kind: str, node: str | None = None) -> list[dict]:
    return [e for e in events if e["type"] == kind and (node is None or e.get("node") == node)]


@pytest.fixture(scope="module")
def cluster():
    with LoopbackCluster() as c:
        c.start(workers=[1, 1])
        yield c


DATA = "cats_vs_dogs"   # the dataset folder inside the data root
# trainers sleep this long after each batch (the studio's fault-injection setting): the resume
# test's epochs last ~2 s, long enough to kill a node in a chosen one; long_graph's runs last minutes
DELAY_S = 0.4


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    if SHARED_DATA.is_dir():   # a few real photos (the graphs take 8 a class)
        return SHARED_DATA.parent
    root = tmp_path_factory.mktemp("data")
    make_image_folder(root / DATA)
    return root


@pytest.fixture(scope="module")
def studio(cluster, postgres_url, data_root, tmp_path_factory):
    import sqlalchemy as sa

    name = f"ray_{os.getpid()}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    db = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    s = Studio(tmp_path_factory.mktemp("studio"), ["--executor", "ray", "--ray-address", cluster.address,
                                                    "--db", db, "--data-root", str(data_root)], cluster.env)
    try:
        yield s.wait_up()
    finally:
        s.stop()


def backbone_graph(epochs: int = 1, seed: int = 42) -> dict:
    g = tiny_graph(DATA, epochs=epochs, backbone=True, size=64)
    for n in g["nodes"]:
        if n["id"] in ("train", "train_finetuned"):
            n["params"]["seed"] = seed
    return g


def long_graph(seed: int = 0) -> dict:
    """A run of minutes (1,000 epochs of batch-1 steps, each followed by the studio's DELAY_S),
    for cancelling. Small weights: its checkpoint travels to the server every epoch."""
    g = tiny_graph(DATA, epochs=1000)
    for n in g["nodes"]:
        if n["id"] == "train":
            n["params"].update(batch_size=1, seed=seed)
    return g


def test_serve_refuses_an_address_without_a_cluster(cluster, tmp_path):
    address = f"127.0.0.1:{free_port()}"
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "backend.cli", "serve", "--port", "0", "--home", str(tmp_path),
                           "--executor", "ray", "--ray-address", address], cwd=REPO, env=cluster.env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert f"cannot reach the Ray cluster at {address}" in done.stderr
    assert time.monotonic() - t0 < 60


def test_partial_run_ships_the_servers_inputs_to_the_cluster(cluster, data_root, tmp_path):
    """Phase 1 trained by the embedded worker into a store the cluster never saw; phase 2 on
    the cluster gets phase 1's result (and model file) through Ray's object store. (It runs
    before the studio starts: the studio's actors would hold the cluster's two CPUs.)"""
    graph = backbone_graph(seed=7)
    path = tmp_path / "graph.json"
    for n in graph["nodes"]:
        if n["id"] == "dataset":
            n["params"]["root"] = str(data_root / DATA)
    path.write_text(json.dumps(graph))
    cache = tmp_path / "cache"

    def abacus(*args: str) -> dict:
        done = subprocess.run([sys.executable, "-m", "backend.cli", "run", str(path), "--cache-dir", str(cache),
                               "--json", "--quiet", *args], cwd=REPO, env=cluster.env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout)

    local = abacus("--to", "train")   # a RunSummary
    assert local["nodes"]["train"]["state"] == "done"
    remote = abacus("--to", "train_finetuned", "--executor", "ray", "--ray-address", cluster.address)
    assert remote["status"] == "finished"
    assert remote["nodes"]["train"]["state"] == "cached"
    assert remote["nodes"]["train_finetuned"]["state"] == "done"
    model = Path(remote["nodes"]["train_finetuned"]["summary"]["model"]["model_file"])
    assert model.is_file() and model.resolve().is_relative_to(cache.resolve())


def test_template_runs_on_the_cluster_and_comes_back_to_the_server(studio, cluster):
    health = studio.http.get("/api/health").json()["worker"]
    assert health["kind"] == "ray" and health["alive"] and health["slots"] == 2
    assert len(health["nodes"]) == 3   # the head and two worker nodes

    graph = backbone_graph()
    pid = studio.project(graph, "on the cluster")
    run_id = studio.start(pid, ["train"])
    final = studio.wait(run_id)
    assert final["status"] == "finished", (final, studio.output())

    events = studio.ws_events(run_id)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))   # in order, none missing
    assert events == studio.events(run_id)
    started = of(events, "run.started")[0]
    worker = started["worker"]
    assert worker["kind"] == "ray" and worker["node_id"] and worker["pid"] != studio.proc.pid
    assert of(events, "node.finished", "train") and of(events, "node.metrics", "train")

    # the trained model came back to the server's store: download and predict work
    artifact = studio.http.get(f"/api/runs/{run_id}/artifacts").json()
    assert [(a["node"], a["kind"]) for a in artifact] == [("train", "model")]
    model = studio.http.get(artifact[0]["url"])
    assert model.status_code == 200 and model.content == Path(artifact[0]["path"]).read_bytes()
    pred = studio.http.post(f"/api/runs/{run_id}/predict", params={"node": "train"},
                            files={"file": ("x.jpg", jpeg_bytes(), "image/jpeg")})
    assert pred.status_code == 200, pred.text
    assert pred.json()["class"] in ("cat", "dog")

    # running to train again is a cache hit on the server: the cluster is not asked
    again = studio.start(pid, ["train"])
    assert studio.wait(again)["status"] == "finished"
    events = studio.events(again)
    assert of(events, "node.cached", "train") and not of(events, "node.started")
    assert of(events, "run.started")[0]["worker"]["kind"] == "server"

    # other fine-tune layers: phase 1 comes from the cache, phase 2 runs on the cluster
    changed = backbone_graph()
    next(n for n in changed["nodes"] if n["id"] == "backbone")["params"]["fine_tune_layers"] = ["top"]
    tuned = studio.start(pid, ["train_finetuned"], changed)
    assert studio.wait(tuned)["status"] == "finished", studio.output()
    events = studio.events(tuned)
    assert of(events, "node.cached", "train") and not of(events, "node.started", "train")
    assert of(events, "node.finished", "finetune") and of(events, "node.finished", "train_finetuned")
    assert of(events, "run.started")[0]["worker"]["kind"] == "ray"
    # the node that holds phase 1's result and feature caches is preferred
    assert of(events, "run.started")[0]["worker"]["node_id"] == worker["node_id"]

    # the server process itself loaded neither torch nor Ray (its driver child did)
    maps = Path(f"/proc/{studio.proc.pid}/maps").read_text()
    assert "libtorch" not in maps and "_raylet" not in maps


def test_two_projects_run_at_the_same_time_on_two_actors(studio):
    """Two long runs of two projects: both train at once (each has reported an epoch while
    the other is still running), on two actors; then both are cancelled."""
    runs = []
    for i in range(2):
        runs.append(studio.start(studio.project(long_graph(100 + i), f"parallel {i}"), ["train"]))
    wait_for(lambda: all(of(studio.events(r), "node.metrics") for r in runs), 180, 0.2, "both runs to train")
    states = [studio.http.get(f"/api/runs/{r}").json() for r in runs]
    assert [s["status"] for s in states] == ["running", "running"], (states, studio.output())
    workers = [of(studio.events(r), "run.started")[0]["worker"] for r in runs]
    assert workers[0]["pid"] != workers[1]["pid"], "two runs, two actors"
    for r in runs:
        studio.http.post(f"/api/runs/{r}/cancel")
    assert [studio.wait(r, 60)["status"] for r in runs] == ["cancelled", "cancelled"]
    spans = [(of(studio.events(r), "node.started")[0]["ts"], studio.events(r)[-1]["ts"]) for r in runs]
    (a0, a1), (b0, b1) = spans
    assert a0 < b1 and b0 < a1, f"the runs did not overlap: {spans}"


def test_cancel_reaches_the_actor(studio):
    pid = studio.project(long_graph(), "cancel")
    run_id = studio.start(pid, ["train"])
    wait_for(lambda: of(studio.events(run_id), "node.metrics"), 180, 0.2, "training to start")
    assert studio.http.post(f"/api/runs/{run_id}/cancel").status_code == 200
    final = studio.wait(run_id, 60)
    assert final["status"] == "cancelled"
    assert len(of(studio.events(run_id), "node.metrics")) < 50


EPOCHS = 6


@pytest.fixture(scope="module")
def reference(data_root, tmp_path_factory) -> list[dict]:
    """The uninterrupted run's metrics, epoch by epoch (the worker's code, in this process)."""
    import components
    from backend.engine import MemoryCache
    from backend.runs import RunService
    from backend.store.artifacts import FileResultStore
    from backend.worker.execution import execute_prepared

    store = FileResultStore(tmp_path_factory.mktemp("reference"))
    service = RunService(components.registry, store, data_roots=[data_root])
    events: list[dict] = []
    status = execute_prepared(service.prepare(resume_graph(DATA, EPOCHS), ["train"], "to", run_id="ref"), store,
                              MemoryCache(), events.append, lambda: False)
    assert status == "finished"
    metrics = of(events, "node.metrics", "train")
    assert [m["epoch"] for m in metrics] == list(range(1, EPOCHS + 1))
    return metrics


def trained(events: list[dict]) -> list[int]:
    """The epochs a run trained itself (not those a resumed run sends again)."""
    return [m["epoch"] for m in of(events, "node.metrics", "train") if not m["resumed"]]


def resumed_at(studio: Studio, run_id: str) -> int:
    """The epoch whose checkpoint a resumed run continued from (its training_resumed line)."""
    lines = wait_for(lambda: [e for e in studio.events(run_id) if e["type"] == "node.log"
                              and e.get("code") in ("training_resumed", "no_checkpoint")], 180, 0.2,
                     f"run {run_id} to resume its training")
    assert lines[0]["code"] == "training_resumed", (lines, studio.output())
    return lines[0]["params"]["epoch"]


def check_resumed(studio: Studio, run_id: str, at: int, reference: list[dict]) -> None:
    """The epochs up to the checkpoint are sent again (resumed), the first one trained is the
    next, and every epoch's metrics are the uninterrupted run's."""
    metrics = of(studio.events(run_id), "node.metrics", "train")
    assert [(m["epoch"], m["resumed"]) for m in metrics] == [(e, e <= at) for e in range(1, len(metrics) + 1)]
    for m, want in zip(metrics, reference):
        for name, value in want["metrics"].items():
            assert m["metrics"][name] == pytest.approx(value, abs=1e-4), (run_id, m["epoch"], name)
        assert m["best_epoch"] == want["best_epoch"]


def test_a_node_killed_mid_training_is_resumed_on_another_node_from_its_checkpoint(studio, cluster, reference):
    """A node killed in the third epoch: the run fails with worker_died naming it, the studio
    resumes it once by itself on the other node, from the checkpoint that came back to the
    server (not from epoch 1); that node killed too, the run stays failed (no loop) and a
    person resumes it on a node added later. The curves are those of an uninterrupted run."""
    artifacts = studio.home / "cache" / "artifacts"
    earlier = {p.parent for p in artifacts.glob("*/checkpoint-epoch*")}   # cancelled runs' (resumable)
    pid = studio.project(resume_graph(DATA, EPOCHS), "resume on another node")
    first = studio.start(pid, ["train"])
    wait_for(lambda: 2 in trained(studio.events(first)), 180, 0.1, "the second epoch")
    node_a = of(studio.events(first), "run.started")[0]["worker"]
    cluster.kill_node_of(node_a["pid"])   # kill -9 of the node's raylet and all its workers, in epoch 3
    final = studio.wait(first, 120)
    assert (final["status"], final["error"]["code"], final["error"]["node"]) == ("failed", "worker_died", "train"), \
        (final, studio.output())
    assert node_a["node_id"][:12] in final["error"]["message"]
    cut = max(trained(studio.events(first)))
    assert 2 <= cut <= 3, cut
    # the node's last checkpoint came back to the server's store (and only that one)
    kept = sorted(p.name for p in artifacts.glob("*/checkpoint-epoch*") if p.parent not in earlier)
    assert kept in ([f"checkpoint-epoch{cut:04d}.pt"], [f"checkpoint-epoch{cut + 1:04d}.pt"]), kept

    # resumed by the studio on the other node, from the checkpoint the server holds
    auto = studio.resumed_from(first, pid)
    assert auto["auto_resumes"] == 1 and auto["targets"] == ["train"]
    at = resumed_at(studio, auto["id"])
    # (one more: the node died after sending a checkpoint, before the metrics of its epoch arrived)
    assert cut <= at <= cut + 1
    wait_for(lambda: trained(studio.events(auto["id"])), 120, 0.1, "the resumed run to train an epoch")
    node_b = of(studio.events(auto["id"]), "run.started")[0]["worker"]
    assert node_b["node_id"] != node_a["node_id"]
    assert trained(studio.events(auto["id"]))[0] == at + 1
    check_resumed(studio, auto["id"], at, reference)

    # the crash repeats: the run stays failed, with resume offered
    cluster.kill_node_of(node_b["pid"])
    final = studio.wait(auto["id"], 120)
    assert (final["status"], final["error"]["code"]) == ("failed", "worker_died"), final
    cut = max(trained(studio.events(auto["id"])))
    assert cut < EPOCHS
    answer = studio.http.post(f"/api/runs/{auto['id']}/resume")
    assert answer.status_code == 201, answer.text
    by_hand = answer.json()
    assert (by_hand["resumed_from"], by_hand["auto_resumes"]) == (auto["id"], 0)
    assert [r["id"] for r in studio.http.get("/api/runs", params={"project_id": pid}).json()
            if r["resumed_from"] == auto["id"]] == [by_hand["id"]], "a crash that repeats must not loop"

    cluster.add_worker(1)   # a node comes back: the run resumed by hand goes there
    cluster.wait_nodes(2, 180)
    final = studio.wait(by_hand["id"], 240)
    assert final["status"] == "finished", (final, studio.output())
    node_c = of(studio.events(by_hand["id"]), "run.started")[0]["worker"]
    assert node_c["node_id"] not in (node_a["node_id"], node_b["node_id"])
    at = resumed_at(studio, by_hand["id"])
    assert cut <= at <= cut + 1
    check_resumed(studio, by_hand["id"], at, reference)
    assert len(of(studio.events(by_hand["id"]), "node.metrics", "train")) == EPOCHS
    # the trained model is stored: its checkpoints are gone from the server's store
    key = of(studio.events(by_hand["id"]), "node.finished", "train")[0]["key"]
    assert not list((studio.home / "cache" / "artifacts" / key).glob("checkpoint-epoch*"))


def test_a_worker_node_keeps_its_cache_within_its_own_budget(studio, cluster, data_root, tmp_path):
    """A node whose own environment sets a tiny cache budget (it knows its disks): after the run
    it executed, its cache holds nothing but the record of what went, while the results came
    back whole to the caller's store. (The studio's idle actor holds the other node's CPU, so
    the command line's run lands on the new node.)"""
    from backend.store import cache_budget
    from backend.store.artifacts import FileResultStore

    node = cluster.add_worker(1, env={"ABACUS_CACHE_MAX_GB": "0.000001", "ABACUS_CACHE_KEEP_RECENT_S": "0"})
    node_cache = cluster.root / f"tmp-worker{len(cluster.workers) - 1}" / "abacus-ray-cache"
    try:
        cluster.wait_nodes(3, 180)   # the head, the node the last test added, this one
        graph = tiny_graph(DATA, epochs=1)
        next(n for n in graph["nodes"] if n["id"] == "dataset")["params"]["root"] = str(data_root / DATA)
        next(n for n in graph["nodes"] if n["id"] == "train")["params"]["seed"] = 21
        path = tmp_path / "graph.json"
        path.write_text(json.dumps(graph))
        done = subprocess.run([sys.executable, "-m", "backend.cli", "run", str(path), "--to", "train", "--json",
                               "--quiet", "--cache-dir", str(tmp_path / "cache"), "--executor", "ray",
                               "--ray-address", cluster.address], cwd=REPO, env=cluster.env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        summary = json.loads(done.stdout)
        assert summary["status"] == "finished" and summary["nodes"]["train"]["state"] == "done"
        assert FileResultStore(tmp_path / "cache").has(summary["nodes"]["train"]["key"])
        # the node pruned its own cache after the run (in the background): the model went last
        wait_for(lambda: node_cache.is_dir() and not cache_budget.scan(node_cache), 60, 0.5, "the node's prune")
        gone = list((node_cache / "index" / "evicted").rglob("*.json"))
        assert len(gone) >= 3 and any(json.loads(p.read_text())["model"] for p in gone)
    finally:
        cluster.kill_node_of(node.pid)


def test_a_cluster_that_goes_away_fails_its_runs_and_the_studio_reconnects_when_it_is_back(studio, cluster):
    """The head and every node killed mid-run: the run fails, the studio keeps serving and
    queues (the run's automatic resume among them); a cluster back at the same address (same
    token) takes the queued runs."""
    pid = studio.project(long_graph(2), "cluster lost")
    run_id = studio.start(pid, ["train"])
    wait_for(lambda: of(studio.events(run_id), "node.metrics"), 180, 0.2, "training to start")
    cluster.stop()
    final = studio.wait(run_id, 120)
    assert final["status"] == "failed" and final["error"]["code"] == "worker_died", final
    # the actor's node went first (or the connection: then the message names the address)
    assert "node" in final["error"]["message"] or cluster.address in final["error"]["message"]
    health = wait_for(lambda: (h := studio.http.get("/api/health").json()["worker"]) and not h["alive"] and h,
                      30, 0.5, "the studio to see the cluster gone")
    assert health["kind"] == "ray"
    auto = studio.resumed_from(run_id, pid)   # waits for the cluster, like every queued run
    assert auto["auto_resumes"] == 1 and studio.http.get(f"/api/runs/{auto['id']}").json()["status"] == "queued"
    assert studio.http.post(f"/api/runs/{auto['id']}/cancel").status_code == 200   # it would train for minutes

    graph = tiny_graph(DATA, epochs=1)
    next(n for n in graph["nodes"] if n["id"] == "train")["params"]["seed"] = 11
    queued = studio.start(pid, ["train"], graph)
    time.sleep(2)
    assert studio.http.get(f"/api/runs/{queued}").json()["status"] == "queued"
    with LoopbackCluster(port=cluster.port, token=cluster.token) as back:
        back.start(workers=[1])
        assert studio.wait(queued, 180)["status"] == "finished", studio.output()
        assert studio.http.get("/api/health").json()["worker"]["alive"]
