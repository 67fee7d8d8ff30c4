"""The fault suite: probes of crashes, full disks, hostile input and leaks, each a test.

Reuses the API tests' fixtures: a real app (worker and dispatcher included) on a fresh
SQLite file, and a data root with a tiny cats-vs-dogs folder at cv/.
"""
from __future__ import annotations

from api.conftest import client, data_root, graph, make_settings, settings, shared_client, wait_run  # noqa: F401
