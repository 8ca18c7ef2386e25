"""The Starlette application and its lifespan: migrate the database, load the catalogue, then serve."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from assets.catalogue import load_catalogue
from assets.clip_storage import ClipStorage, LocalClipStorage, S3ClipStorage
from assets.library import ensure_sample_library
from assets.postgres_leases import PostgresRenderLeases
from assets.repository import RepositoryError, open_repository
from playlists.renditions import DEFAULT_RENDITIONS
from segmenter.cache import SegmentCache
from segmenter.engine import EngineSettings, RenderEngine
from segmenter.frame_store import FrameStore
from segmenter.heap import keep_large_blocks_in_their_own_mappings
from segmenter.shared_store import S3Settings, SharedSegmentStore
from server.config.settings import MIB, Settings, frame_store_dir
from server.database_metrics import CountedRepository
from server.errors import EXCEPTION_HANDLERS
from server.exercises import ExerciseCatalogue
from server.metrics import METRICS_ROUTES, Metrics, counted_handlers
from server.middleware.http_metrics import HttpMetricsMiddleware
from server.middleware.rate_limit import LIMITER_STATE, RateLimiter
from server.middleware.request_id import RequestIdMiddleware
from server.middleware.signing import SIGNER_STATE, UrlSigner, UrlTokenGuard
from server.routes.catalogue import CATALOGUE_ROUTES
from server.routes.openapi import OPENAPI_ROUTES
from server.routes.pictures import PICTURE_ROUTES
from server.routes.readiness import READINESS_ROUTES
from server.routes.streams import ROUTES
from server.routes.web import WEB_ROUTES
from server.routes.workouts import WORKOUT_ROUTES
from server.streaming import StreamingService, exercise_names

log = logging.getLogger(__name__)

LEASE_CONNECTIONS_PER_WORKER = 2
"""A render worker holds at most one lease while it renders, and one more may wait for its upload."""


def shared_store(settings: Settings) -> SharedSegmentStore | None:
    if settings.s3_bucket is None:
        return None
    return SharedSegmentStore(
        S3Settings(settings.s3_bucket, settings.s3_prefix, settings.s3_endpoint_url, settings.s3_region)
    )


def render_leases(settings: Settings) -> PostgresRenderLeases | None:
    """The cluster's render leases: in the PostgreSQL database the nodes share, when they also share a
    segment tier (without one, a follower would have nothing to read once the leader is done)."""
    if settings.s3_bucket is None or settings.database_url is None:
        return None
    return PostgresRenderLeases(settings.database_url, max_connections=LEASE_CONNECTIONS_PER_WORKER * settings.render_workers + 2)


def clip_storage(settings: Settings) -> ClipStorage:
    """Clips in the data directory by default, or in an S3-compatible bucket (HLS_CLIP_S3_BUCKET)."""
    if settings.clip_s3_bucket:
        return S3ClipStorage(
            settings.clip_s3_bucket,
            settings.clip_s3_prefix,
            settings.data_dir / "clip-cache",
            settings.s3_endpoint_url,
            settings.s3_region,
        )
    key = settings.signing_key.encode() if settings.signing_key else secrets.token_bytes(32)
    return LocalClipStorage(settings.data_dir, url_base="", signing_key=key)


async def refresh_periodically(service: StreamingService, seconds: int, prepare: bool) -> None:
    """Pick up catalogue writes made through other nodes (and prepare their clips); a failed refresh
    keeps the last snapshot."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await service.exercises.refresh()
        except RepositoryError as error:
            log.warning("catalogue refresh failed, keeping the last one: %s", error)
            continue
        if prepare:
            service.prepare_catalogue()


def create_app(settings: Settings) -> Starlette:
    keep_large_blocks_in_their_own_mappings()  # segments are MB-sized buffers made and freed all day
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ensure_sample_library(settings.clips_dir)
        repository = CountedRepository(open_repository(settings.database_url, settings.sqlite_path), metrics)
        try:
            applied = await repository.migrate()
            if applied:
                log.info("applied migrations: %s", ", ".join(applied))
            exercises = ExerciseCatalogue(repository, clip_storage(settings), load_catalogue(settings.clips_dir).music)
            await exercises.seed(settings.clips_dir)
            await exercises.refresh()
        except BaseException:
            await repository.close()
            raise
        engine = RenderEngine(
            EngineSettings(
                renditions=DEFAULT_RENDITIONS,
                render_workers=settings.render_workers,
                render_processes=settings.render_processes,
                render_queue=settings.render_queue,
                look_ahead=settings.look_ahead,
                render_timeout=settings.render_timeout_seconds,
            ),
            frame_store=FrameStore(frame_store_dir(settings), settings.frame_store_mib * MIB),
            segment_cache=SegmentCache(settings.segment_cache_mib * MIB),
            shared=shared_store(settings),
            leases=render_leases(settings),
            text_to_warm=lambda: exercise_names(exercises.snapshot),
            render_timer=metrics.render,
        )
        service = StreamingService(exercises, engine, warm_clips=settings.warm_clips)
        collector = metrics.watch(service)
        app.state.service = service
        app.state.exercises = exercises
        app.state.settings = settings
        if settings.warm_clips:
            service.start_warming()
        refresher = asyncio.create_task(refresh_periodically(service, settings.catalogue_refresh_seconds, settings.warm_clips))
        try:
            yield
        finally:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
            await service.close()
            await repository.close()
            metrics.registry.unregister(collector)

    middleware = [
        Middleware(RequestIdMiddleware, access_log_enabled=settings.access_log),
        Middleware(HttpMetricsMiddleware, metrics=metrics),
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"],
            allow_headers=["Content-Type", "Range", "Authorization"],
            expose_headers=["Content-Length", "Content-Range", "ETag", "Accept-Ranges"],
            max_age=3600,
        )
    ]
    signer = url_signer(settings)
    if signer is not None:
        middleware.append(Middleware(UrlTokenGuard, signer=signer))
    routes = [
        *ROUTES,
        *CATALOGUE_ROUTES,
        *WORKOUT_ROUTES,
        *PICTURE_ROUTES,
        *METRICS_ROUTES,
        *READINESS_ROUTES,
        *WEB_ROUTES,
        *OPENAPI_ROUTES,
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers=counted_handlers(EXCEPTION_HANDLERS, metrics),
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    setattr(app.state, SIGNER_STATE, signer)
    setattr(app.state, LIMITER_STATE, rate_limiter(settings))
    return app


def url_signer(settings: Settings) -> UrlSigner | None:
    """Signed stream URLs only when a key is configured."""
    if not settings.url_signing_key:
        return None
    return UrlSigner(settings.url_signing_key.encode(), settings.url_ttl_seconds)


def rate_limiter(settings: Settings) -> RateLimiter | None:
    if settings.rate_limit_per_minute == 0:
        return None
    return RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
