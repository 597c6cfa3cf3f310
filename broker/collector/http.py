"""``/metrics`` (Prometheus text format) and ``/healthz`` over FastAPI, served by uvicorn in a
background thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger(__name__)


def make_app(registry: CollectorRegistry, health: Callable[[], dict[str, Any]]) -> FastAPI:
    """The app: ``health()`` returns a dict with a boolean ``ok`` (503 when false)."""
    app = FastAPI(title="poise collector", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        h = health()
        return JSONResponse(h, status_code=200 if h.get("ok") else 503)

    return app


class HttpServer:
    """uvicorn in a daemon thread; :meth:`stop` asks it to exit and waits."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        import uvicorn

        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="collector-http", daemon=True)

    def start(self) -> None:
        self.thread.start()

    @property
    def started(self) -> bool:
        return bool(self.server.started)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
