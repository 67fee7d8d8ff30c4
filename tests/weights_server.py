"""A loopback HTTP server for weight-file tests: serves bytes with Range support, can cut a
response off mid-body, and a test catalog (small random files and their digests). Nothing
here reaches the internet."""
from __future__ import annotations

import hashlib
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class WeightsServer:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut_after: int | None = None   # the next response stops after this many body bytes
        self.requests: list[tuple[str, str | None]] = []   # (path, Range header)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                server.requests.append((self.path, rng))
                data = server.files.get(self.path.rsplit("/", 1)[-1])
                if data is None:
                    self.send_error(404)
                    return
                start = 0
                if rng:
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                cut, server.cut_after = server.cut_after, None
                if cut is not None:
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/models"

    def __enter__(self) -> "WeightsServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def write_catalog(path: Path, server: WeightsServer, size: int = 300_000, prefix_only: bool = False) -> dict:
    """A test catalog: 'tiny' (a random file served by ``server``) and 'vgg16' pointing at the same
    kind of file under torchvision's file name. Returns {name: bytes}."""
    entries, blobs = [], {}
    for name, file in (("tiny", "tiny-weights.pth"), ("vgg16", "vgg16-397923af.pth")):
        data = os.urandom(size)
        digest = hashlib.sha256(data).hexdigest()
        server.files[file] = data
        blobs[name] = data
        entries.append({"name": name, "title": {"en": name, "zh": name}, "url": f"{server.base}/{file}",
                        "file": file, "size": len(data), "sha256": None if prefix_only else digest,
                        "sha256_prefix": digest[:8]})
    path.write_text(json.dumps({"weights": entries}), encoding="utf-8")
    return blobs
