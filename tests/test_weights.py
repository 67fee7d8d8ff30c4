"""Pretrained weight files: fetch (progress, resume with Range, digest check, offline errors,
mirror), import, and the ``abacus weights`` commands, all against a loopback server."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from components.backbones import weights
from tests.weights_server import WeightsServer, write_catalog


@pytest.fixture
def server():
    with WeightsServer() as s:
        yield s


@pytest.fixture
def catalog(tmp_path, monkeypatch, server):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("ABACUS_WEIGHTS_MIRROR", raising=False)
    path = tmp_path / "catalog.json"
    blobs = write_catalog(path, server)
    monkeypatch.setenv("ABACUS_WEIGHTS_CATALOG", str(path))
    return blobs


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_builtin_catalog_names_torchvisions_vgg16():
    entry = weights.load_catalog(weights.CATALOG_FILE)["vgg16"]
    assert entry.url == "https://download.pytorch.org/models/vgg16-397923af.pth"
    assert entry.file == "vgg16-397923af.pth" and entry.sha256_prefix == "397923af"
    assert entry.matches("397923af" + "0" * 56) and not entry.matches("0" * 64)


def test_fetch_streams_with_progress_into_the_hub_cache(catalog, server):
    entry = weights.get_entry("tiny")
    seen = []
    path = weights.fetch(entry, progress=lambda done, total: seen.append((done, total)))
    assert path == weights.target_path(entry) and path.read_bytes() == catalog["tiny"]
    assert path.parent == weights.hub_dir() / "checkpoints"
    assert seen[-1] == (entry.size, entry.size) and len(seen) > 2
    assert not weights.part_path(entry).exists()
    assert weights.status(entry)["present"] is True
    assert server.requests == [("/models/tiny-weights.pth", None)]


def test_an_interrupted_download_resumes_with_range(catalog, server):
    entry = weights.get_entry("tiny")
    server.cut_after = 100_000
    with pytest.raises(weights.WeightsError) as err:
        weights.fetch(entry)
    assert err.value.code == "fetch_failed"
    part = weights.part_path(entry)
    assert part.stat().st_size == 100_000 and not weights.target_path(entry).exists()
    assert weights.status(entry)["partial_bytes"] == 100_000

    path = weights.fetch(entry)
    assert server.requests[-1] == ("/models/tiny-weights.pth", "bytes=100000-")
    assert path.read_bytes() == catalog["tiny"] and not part.exists()


def test_a_wrong_digest_is_refused_and_nothing_is_kept(catalog, server):
    entry = weights.get_entry("tiny")
    server.files["tiny-weights.pth"] = os.urandom(entry.size)   # same size, other bytes
    with pytest.raises(weights.WeightsError) as err:
        weights.fetch(entry)
    assert err.value.code == "digest_mismatch"
    assert not weights.target_path(entry).exists() and not weights.part_path(entry).exists()
    assert list((weights.hub_dir() / "checkpoints").iterdir()) == []


def test_offline_the_error_names_the_url_and_where_to_put_the_file(catalog, monkeypatch):
    url = f"http://127.0.0.1:{_closed_port()}/mirror"
    monkeypatch.setenv("ABACUS_WEIGHTS_MIRROR", url)
    entry = weights.get_entry("vgg16")
    with pytest.raises(weights.WeightsError) as err:
        weights.fetch(entry, timeout=5)
    message = err.value.message
    assert err.value.code == "fetch_failed"
    assert f"{url}/vgg16-397923af.pth" in message and str(weights.target_path(entry)) in message
    assert "abacus weights import vgg16" in message
    assert not weights.target_path(entry).exists()


def test_a_mirror_replaces_the_published_url(catalog, server, tmp_path):
    entry = weights.get_entry("tiny").model_copy(update={"url": f"http://127.0.0.1:{_closed_port()}/x.pth"})
    path = weights.fetch(entry, mirror=server.base + "/")
    assert path.read_bytes() == catalog["tiny"]
    assert weights.source_url(entry, server.base) == f"{server.base}/tiny-weights.pth"


def test_the_hash_prefix_verifies_when_the_full_digest_is_unknown(tmp_path, monkeypatch, server):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    path = tmp_path / "catalog.json"
    blobs = write_catalog(path, server, prefix_only=True)
    entry = weights.get_entry("tiny", path)
    assert entry.sha256 is None
    assert weights.fetch(entry).read_bytes() == blobs["tiny"]


def test_import_copies_a_good_file_and_refuses_a_bad_one(catalog, tmp_path):
    entry = weights.get_entry("tiny")
    bad = tmp_path / "bad.pth"
    bad.write_bytes(os.urandom(entry.size))
    with pytest.raises(weights.WeightsError) as err:
        weights.import_file(entry, bad)
    assert err.value.code == "digest_mismatch"
    short = tmp_path / "short.pth"
    short.write_bytes(b"x")
    with pytest.raises(weights.WeightsError) as err:
        weights.import_file(entry, short)
    assert err.value.code == "size_mismatch"
    assert list((weights.hub_dir() / "checkpoints").iterdir()) == []

    good = tmp_path / "good.pth"
    good.write_bytes(catalog["tiny"])
    assert weights.import_file(entry, good).read_bytes() == catalog["tiny"]


@pytest.fixture
def abacus(capsys):
    """``abacus weights ...`` in this process (the environment as the fixtures set it)."""
    from backend.cli import main

    def run(*args):
        capsys.readouterr()
        try:
            code = main(["weights", *map(str, args)])
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 2
            if not isinstance(exit_.code, int):
                print(exit_.code, file=sys.stderr)
        out = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out.out, out.err)

    return run


def test_the_weights_commands(catalog, server, tmp_path, abacus):
    listed = abacus("list")
    assert listed.returncode == 0, listed.stderr
    assert "tiny\t" in listed.stdout and "missing" in listed.stdout

    fetched = abacus("fetch", "tiny")
    assert fetched.returncode == 0, fetched.stderr
    assert "100%" in fetched.stderr and "verified and saved" in fetched.stderr   # tqdm's bar
    assert weights.target_path(weights.get_entry("tiny")).read_bytes() == catalog["tiny"]
    assert "present" in abacus("list").stdout

    bad = tmp_path / "bad.pth"
    bad.write_bytes(os.urandom(len(catalog["vgg16"])))
    refused = abacus("import", "vgg16", bad)
    assert refused.returncode == 1 and "digest_mismatch" not in refused.stderr and "SHA-256" in refused.stderr
    good = tmp_path / "good.pth"
    good.write_bytes(catalog["vgg16"])
    imported = abacus("import", "vgg16", good)
    assert imported.returncode == 0, imported.stderr

    unknown = abacus("fetch", "nope")
    assert unknown.returncode != 0 and "no weights named 'nope'" in unknown.stderr


def test_offline_fetch_command_says_where_to_put_the_file(catalog, monkeypatch, abacus):
    url = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("ABACUS_WEIGHTS_MIRROR", url)
    failed = abacus("fetch", "vgg16", "--quiet")
    assert failed.returncode == 1
    assert f"{url}/vgg16-397923af.pth" in failed.stderr
    assert str(weights.target_path(weights.get_entry("vgg16"))) in failed.stderr
