"""The Starlette application and its lifespan: open the store and catalogue, then serve."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from assets.catalogue import load_catalogue
from assets.library import ensure_sample_library
from assets.store import SqlitePlanStore
from playlists.renditions import DEFAULT_RENDITIONS
from segmenter.cache import SegmentCache
from segmenter.frames import FrameLibrary
from segmenter.shared_store import S3Settings, SharedSegmentStore
from server.config import MIB, Settings
from server.errors import EXCEPTION_HANDLERS
from server.routing import ROUTES
from server.streaming import StreamingService


def shared_store(settings: Settings) -> SharedSegmentStore | None:
    if settings.s3_bucket is None:
        return None
    return SharedSegmentStore(
        S3Settings(settings.s3_bucket, settings.s3_prefix, settings.s3_endpoint_url, settings.s3_region)
    )


def create_app(settings: Settings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ensure_sample_library(settings.clips_dir)
        service = StreamingService(
            catalogue=load_catalogue(settings.clips_dir),
            store=SqlitePlanStore(settings.sqlite_path),
            renditions=DEFAULT_RENDITIONS,
            frame_library=FrameLibrary(settings.frame_cache_mib * MIB),
            segment_cache=SegmentCache(settings.segment_cache_mib * MIB),
            render_workers=settings.render_workers,
            render_queue=settings.render_queue,
            look_ahead=settings.look_ahead,
            shared=shared_store(settings),
        )
        app.state.service = service
        if settings.warm_clips:
            service.start_warming()
        try:
            yield
        finally:
            await service.close()

    middleware = [
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
            allow_headers=["Content-Type", "Range"],
            expose_headers=["Content-Length", "Content-Range", "ETag", "Accept-Ranges"],
            max_age=3600,
        )
    ]
    return Starlette(routes=ROUTES, middleware=middleware, exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan)
