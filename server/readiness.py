"""GET /ready: may this node take traffic? (GET /health only says the process is alive.)

Ready means: the database answers a cheap query, clip storage is reachable (the data directory
exists, or S3's head_bucket succeeds) and the catalogue snapshot holds playable exercises. Each
check has a time limit, so a hung dependency makes the probe answer 503 rather than hang. The shared
S3 segment tier is not checked: it is an optimisation, and a node without it still serves.
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
from server.exercises import ExerciseCatalogue

CHECK_TIMEOUT_SECONDS = 3.0
"""Below the Kubernetes readiness probe's timeout (5 s in infra/k8s), so the probe gets our answer."""
OK = "ok"


class CatalogueEmpty(RuntimeError):
    """No playable exercise is loaded: nothing could be rendered."""


async def database(exercises: ExerciseCatalogue) -> None:
    await exercises.repository.ping()


async def clip_storage(exercises: ExerciseCatalogue) -> None:
    await asyncio.to_thread(exercises.storage.check)


async def catalogue(exercises: ExerciseCatalogue) -> None:
    if not exercises.snapshot.exercises:
        raise CatalogueEmpty("no playable exercise is loaded")


CHECKS: dict[str, Callable[[ExerciseCatalogue], Awaitable[None]]] = {
    "database": database,
    "clip_storage": clip_storage,
    "catalogue": catalogue,
}
FAILURES = (RepositoryError, ClipStorageError, CatalogueEmpty, TimeoutError)
"""What a check raises when its dependency is not ready; anything else is a bug and answers 500."""


async def run_check(check: Callable[[ExerciseCatalogue], Awaitable[None]], exercises: ExerciseCatalogue) -> str:
    """OK, or what is wrong."""
    try:
        await asyncio.wait_for(check(exercises), CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return f"no answer within {CHECK_TIMEOUT_SECONDS:g} s"
    except FAILURES as error:
        return str(error) or type(error).__name__
    return OK


async def ready(request: Request) -> Response:
    exercises: ExerciseCatalogue = request.app.state.exercises
    results = await asyncio.gather(*(run_check(check, exercises) for check in CHECKS.values()))
    checks = dict(zip(CHECKS, results, strict=True))
    if any(result != OK for result in checks.values()):
        raise NotReady(checks)
    return JSONResponse({"status": "ready", "checks": checks})


READINESS_ROUTES = [Route("/ready", ready, methods=["GET"])]
