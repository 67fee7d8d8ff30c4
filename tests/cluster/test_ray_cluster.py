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
from tests.api.helpers import jpeg_bytes, make_image_folder, tiny_graph, wait_for
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
        self.log_path = home / "serve.log"
        home.mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", str(self.port),
                                      "--home", str(home), "--log-level", "warning", *args],
                                     # these tests check how a cluster's failures reach runs: no automatic
                                     # resume (tests/faults/test_resume.py tests it with the embedded worker)
                                     cwd=REPO, env={**env, "ABACUS_AUTO_RESUME": "0"}, stdout=self.log,
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
        return wait_for(lambda: (r := self.http.get(f"/api/runs/{run_id}").json())["status"]
                        not in ("queued", "running") and r, timeout, 0.2, f"run {run_id} to end")

    def events(self, run_id: str) -> list[dict]:
        return self.http.get(f"/api/runs/{run_id}/events").json()

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
    """A run of minutes (1,000 epochs of batch-1 steps on a 12 M-weight Dense), for cancelling."""
    g = tiny_graph(DATA, epochs=1000, size=128)
    for n in g["nodes"]:
        if n["id"] == "train":
            n["params"].update(batch_size=1, seed=seed)
        elif n["id"] == "dense":
            n["params"]["units"] = 256
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


def test_a_worker_node_killed_mid_run_fails_that_run_and_the_next_one_works(studio, cluster):
    pid = studio.project(long_graph(1), "kill")
    run_id = studio.start(pid, ["train"])
    wait_for(lambda: of(studio.events(run_id), "node.metrics"), 180, 0.2, "training to start")
    worker = of(studio.events(run_id), "run.started")[0]["worker"]
    cluster.kill_node_of(worker["pid"])   # kill -9 of the node's raylet and all its workers
    final = studio.wait(run_id, 120)
    assert final["status"] == "failed" and final["error"]["code"] == "worker_died", final
    assert worker["node_id"][:12] in final["error"]["message"]
    assert studio.http.get("/api/health").status_code == 200

    graph = tiny_graph(DATA, epochs=1)
    next(n for n in graph["nodes"] if n["id"] == "train")["params"]["seed"] = 9
    again = studio.start(pid, ["train"], graph)
    assert studio.wait(again, 180)["status"] == "finished", studio.output()
    assert of(studio.events(again), "run.started")[0]["worker"]["node_id"] != worker["node_id"]


def test_a_cluster_that_goes_away_fails_its_runs_and_the_studio_reconnects_when_it_is_back(studio, cluster):
    """The head and every node killed mid-run: the run fails, the studio keeps serving and
    queues; a cluster back at the same address (same token) takes the queued run."""
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

    graph = tiny_graph(DATA, epochs=1)
    next(n for n in graph["nodes"] if n["id"] == "train")["params"]["seed"] = 11
    queued = studio.start(pid, ["train"], graph)
    time.sleep(2)
    assert studio.http.get(f"/api/runs/{queued}").json()["status"] == "queued"
    with LoopbackCluster(port=cluster.port, token=cluster.token) as back:
        back.start(workers=[1])
        assert studio.wait(queued, 180)["status"] == "finished", studio.output()
        assert studio.http.get("/api/health").json()["worker"]["alive"]
