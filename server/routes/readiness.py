"""GET /ready: may this node take traffic? (GET /health only says the process is alive.)

Ready means the node serves at its warm speed: the database answers a cheap query, clip storage is
reachable (the data directory exists, or S3's head_bucket succeeds), the catalogue snapshot holds
playable exercises, every render worker process is running, and (unless HLS_WARM_CLIPS=0) start-up
preparation of the clips has finished (clips added later are prepared while the node stays ready). Each check has a time limit, so a hung dependency makes the probe
answer 503 rather than hang. The shared S3 segment tier is not checked: it is an optimisation, and a
node without it still serves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from assets.clip_storage import ClipStorageError
from assets.repository import RepositoryError
from server.errors import NotReady
from server.streaming import StreamingService

CHECK_TIMEOUT_SECONDS = 3.0
"""Below the Kubernetes readiness probe's timeout (5 s in infra/k8s), so the probe gets our answer."""
OK = "ok"


class CatalogueEmpty(RuntimeError):
    """No playable exercise is loaded: nothing could be rendered."""


class StillWarming(RuntimeError):
    """Render processes are starting, or clips are being prepared: segments would be slow."""


async def database(service: StreamingService) -> None:
    await service.exercises.repository.ping()


async def clip_storage(service: StreamingService) -> None:
    await asyncio.to_thread(service.exercises.storage.check)


async def catalogue(service: StreamingService) -> None:
    if not service.exercises.snapshot.exercises:
        raise CatalogueEmpty("no playable exercise is loaded")


async def render_workers(service: StreamingService) -> None:
    engine = service.engine
    if not engine.workers_running():
        live, wanted = len(engine.pool.worker_pids()), engine.pool.workers
        raise StillWarming(f"{live} of {wanted} render processes running")


async def prepared_clips(service: StreamingService) -> None:
    waiting = service.still_warming()
    if waiting is not None:
        raise StillWarming(waiting)


CHECKS: dict[str, Callable[[StreamingService], Awaitable[None]]] = {
    "database": database,
    "clip_storage": clip_storage,
    "catalogue": catalogue,
    "render_workers": render_workers,
    "prepared_clips": prepared_clips,
}
FAILURES = (RepositoryError, ClipStorageError, CatalogueEmpty, StillWarming, TimeoutError)
"""What a check raises when its dependency is not ready; anything else is a bug and answers 500."""


async def run_check(check: Callable[[StreamingService], Awaitable[None]], service: StreamingService) -> str:
    """OK, or what is wrong."""
    try:
        await asyncio.wait_for(check(service), CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return f"no answer within {CHECK_TIMEOUT_SECONDS:g} s"
    except FAILURES as error:
        return str(error) or type(error).__name__
    return OK


async def ready(request: Request) -> Response:
    service: StreamingService = request.app.state.service
    results = await asyncio.gather(*(run_check(check, service) for check in CHECKS.values()))
    checks = dict(zip(CHECKS, results, strict=True))
    if any(result != OK for result in checks.values()):
        raise NotReady(checks)
    return JSONResponse({"status": "ready", "checks": checks})


READINESS_ROUTES = [Route("/ready", ready, methods=["GET"])]
