"""The fleet's HTTPS endpoint: enrollment (CSR + one-time token -> certificate) and model files.

:func:`make_router` gives a FastAPI router the collector can mount (``app.include_router``);
:func:`make_app` wraps it in an app and :func:`serve` runs that with uvicorn over TLS with the
fleet's server certificate (``poise fleet serve``). Refusals are 403 with a short reason that
never echoes the token; a token is spent only when its certificate has been issued.

Model files (``GET /v1/models/<version>/<file>``) are public bytes — their integrity comes from
the signed manifest, not from this channel — and honour ``Range: bytes=N-`` so a device resumes
an interrupted download.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from pydantic import BaseModel, Field

from broker.fleet.fleet import EnrollRefused, Fleet
from broker.fleet.layout import FleetDir
from edge.telemetry.envelope import WallClock

log = logging.getLogger(__name__)

_RANGE = re.compile(r"^bytes=(\d+)-$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class EnrollRequest(BaseModel):
    device: str = Field(pattern=r"^[a-z0-9-]{1,64}$")
    token: str = Field(min_length=16, max_length=128)
    csr: str = Field(min_length=64, max_length=8192)


class RenewRequest(BaseModel):
    device: str = Field(pattern=r"^[a-z0-9-]{1,64}$")
    certificate: str = Field(min_length=64, max_length=8192)
    csr: str = Field(min_length=64, max_length=8192)
    proof: str = Field(min_length=16, max_length=512)
    """base64 ECDSA-SHA256 signature of the CSR (PEM bytes) by the current key."""


class EnrollAnswer(BaseModel):
    certificate: str
    ca: str


def make_router(
    fleet_dir: Path, wall_clock: WallClock = time.time, opener: Callable[[], Fleet] | None = None
) -> APIRouter:
    """Routes ``/v1/enroll`` and ``/v1/models/...`` over the fleet in ``fleet_dir``."""
    fdir = FleetDir(fleet_dir)
    router = APIRouter()

    @contextmanager
    def refusing_fleet() -> Iterator[Fleet]:
        """The fleet for one request, closed after it; a refusal is a 403 with its reason."""
        fleet = opener() if opener is not None else Fleet(fdir, wall_clock)
        try:
            yield fleet
        except EnrollRefused as exc:
            raise HTTPException(status_code=403, detail=str(exc)) from None
        finally:
            fleet.close()

    def answer(cert: bytes) -> EnrollAnswer:
        return EnrollAnswer(
            certificate=cert.decode("ascii"), ca=fdir.ca_cert.read_text(encoding="ascii")
        )

    @router.post("/v1/enroll", response_model=EnrollAnswer)
    def enroll(req: EnrollRequest) -> EnrollAnswer:
        with refusing_fleet() as fleet:
            cert = fleet.enroll(req.device, req.token, req.csr.encode("ascii", "replace"))
        return answer(cert)

    @router.post("/v1/renew", response_model=EnrollAnswer)
    def renew(req: RenewRequest) -> EnrollAnswer:
        import base64
        import binascii

        try:
            proof = base64.b64decode(req.proof, validate=True)
        except (binascii.Error, ValueError):
            raise HTTPException(status_code=403, detail="bad proof") from None
        with refusing_fleet() as fleet:
            cert = fleet.renew_cert(
                req.device,
                req.certificate.encode("ascii", "replace"),
                req.csr.encode("ascii", "replace"),
                proof,
            )
        return answer(cert)

    @router.get("/v1/models/{version}/{name}")
    def model_file(version: int, name: str, request: Request) -> Response:
        if not _NAME.match(name):
            raise HTTPException(status_code=404, detail="no such file")
        path = fdir.models / str(version) / name
        try:
            data = path.read_bytes()
        except OSError:
            raise HTTPException(status_code=404, detail="no such file") from None
        rng = request.headers.get("range")
        if rng is None:
            return Response(
                data, media_type="application/octet-stream", headers={"Accept-Ranges": "bytes"}
            )
        m = _RANGE.match(rng.strip())
        if m is None or int(m.group(1)) >= len(data):
            raise HTTPException(status_code=416, detail="unsatisfiable range")
        start = int(m.group(1))
        return Response(
            data[start:],
            status_code=206,
            media_type="application/octet-stream",
            headers={
                "Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}",
                "Accept-Ranges": "bytes",
            },
        )

    @router.get("/v1/healthz")
    def healthz() -> dict[str, Any]:
        return {"ok": fdir.exists()}

    return router


def make_app(fleet_dir: Path, wall_clock: WallClock = time.time) -> FastAPI:
    app = FastAPI(title="Poise fleet enrollment", docs_url=None, redoc_url=None)
    app.include_router(make_router(fleet_dir, wall_clock))
    return app


def uvicorn_config(fleet_dir: Path, host: str, port: int) -> Any:
    """A uvicorn config serving :func:`make_app` over TLS with the fleet's server cert."""
    import uvicorn

    fdir = FleetDir(fleet_dir)
    return uvicorn.Config(
        make_app(fleet_dir),
        host=host,
        port=port,
        ssl_certfile=str(fdir.server_cert),
        ssl_keyfile=str(fdir.server_key),
        log_level="warning",
        access_log=False,  # URLs hold no secrets, but keep the log quiet and token-free
    )


def serve(fleet_dir: Path, host: str, port: int) -> None:
    import uvicorn

    uvicorn.Server(uvicorn_config(fleet_dir, host, port)).run()
