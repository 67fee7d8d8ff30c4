"""The studio server: ``create_app(settings)`` builds an isolated FastAPI app."""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from importlib import metadata
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from backend.engine.graph_diff import registry_defaults
from backend.runs import RunService
from backend.settings import Settings, get_settings
from backend.store.artifacts import FileResultStore
from backend.store.db import Database
from backend.store.projects import ProjectStore
from backend.store.artifact_index import ArtifactIndex
from backend.store.events import EventLog
from backend.store.runs import RunQueue
from backend.worker import make_worker

from . import errors
from .broadcast import Broadcaster
from .deps import Services
from .dispatcher import Dispatcher
from .bodies import BodyLimitMiddleware
from .weights_downloads import upload_limit
from .routes.datasets import upload_limit as datasets_upload_limit
from .security import TokenMiddleware, check_bind

log = logging.getLogger("abacus.api")
FRONTEND_DIST = Path(__file__).resolve().parents[2] / "frontend" / "dist"

try:
    VERSION = metadata.version("abacus-studio")
except metadata.PackageNotFoundError:  # running from a source tree
    VERSION = "0.0.0"

NO_FRONTEND = """<!doctype html><html><head><meta charset="utf-8"><title>Abacus studio</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>Abacus studio</h1>
<p>The server is running, but the editor has not been built yet. Build it with</p>
<pre>cd frontend &amp;&amp; npm install &amp;&amp; npm run build</pre>
<p>and reload this page. The API is at <a href="/docs">/docs</a> (schema: <a href="/openapi.json">/openapi.json</a>).</p>
</body></html>"""


def build_services(settings: Settings) -> Services:
    import components

    settings.home.mkdir(parents=True, exist_ok=True)
    (settings.home / "data").mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    db.migrate()
    events = EventLog(db)
    runs = RunQueue(db, events)
    artifacts = ArtifactIndex(db)
    results = FileResultStore(settings.cache_dir)
    broadcaster = Broadcaster()
    service = RunService(components.registry, results, data_roots=settings.data_roots,
                         worker_settings=settings.run_settings())
    service.worker_memory = True   # the studio's worker lives on: a dry run expects its memory (why.py)
    dispatcher = Dispatcher(settings, runs, events, artifacts, broadcaster, service, make_worker(settings))
    return Services(settings=settings, db=db, projects=ProjectStore(
                        db, defaults=registry_defaults(components.registry), coalesce_s=settings.version_coalesce_s,
                        coalesce_max_s=settings.version_coalesce_max_s), runs=runs, events=events,
                    artifacts=artifacts, results=results,
                    registry=components.registry, broadcaster=broadcaster, dispatcher=dispatcher, service=service)


def create_app(settings: Settings | None = None, *, start_worker: bool = True) -> FastAPI:
    """The app with its own database, worker and event fan-out.

    Migrations run here; the worker, the dispatcher and the recovery of runs cut off by
    a previous stop start with the app's lifespan.
    """
    settings = settings or get_settings()
    check_bind(settings.host, settings.token)
    services = build_services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        services.broadcaster.bind(asyncio.get_running_loop())
        for run, event in services.runs.interrupt_running():
            log.warning("run %s was interrupted by the previous stop", run.id)
            services.broadcaster.publish(event, run.project_id)
        if start_worker:
            await asyncio.to_thread(services.dispatcher.start)
        try:
            yield
        finally:
            if start_worker:
                await asyncio.to_thread(services.dispatcher.stop)
            services.broadcaster.bind(None)
            services.db.dispose()

    app = FastAPI(title="Abacus studio", version=VERSION, lifespan=lifespan,
                  description="Graphs, runs and live events of the Abacus transfer-learning studio")
    app.state.services = services
    errors.install(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.body_limit_bytes,
                       max_json_depth=settings.max_json_depth,
                       limit_for=lambda path: (upload_limit(settings.weights_catalog, path)
                                               or datasets_upload_limit(settings, path)))
    if settings.token:  # added last: runs first, so nothing is read from a stranger
        app.add_middleware(TokenMiddleware, token=settings.token)

    from .routes import cache, compare, data_checks, datasets, meta, models, plan, projects, runs, weights, ws

    for module in (meta, projects, runs, plan, models, weights, datasets, data_checks, compare, cache):
        app.include_router(module.router, prefix="/api")
    app.include_router(ws.router, prefix="/api")

    dist = settings.frontend_dir or FRONTEND_DIST
    if (dist / "index.html").is_file():
        app.mount("/", StaticFiles(directory=dist, html=True), name="editor")
    else:
        @app.get("/", include_in_schema=False)
        def no_frontend() -> HTMLResponse:
            return HTMLResponse(NO_FRONTEND)

    return app
