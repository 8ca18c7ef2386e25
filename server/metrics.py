"""Prometheus metrics served at GET /metrics.

Two kinds, on purpose:
- Counters and histograms for *events*, moved where the event happens: renders (by rendition,
  container and outcome) and their duration, rejections (every JSON error answer, by code and status),
  request latency per route template, database errors.
- Gauges for *state*, read at scrape time by `StreamingCollector` from the objects that own the state
  (segment and frame caches, render queue, shared S3 tier), so the hot paths carry no gauge updates
  and a gauge can never drift from the truth.

Every label has a bounded set of values: routes are templates (`/hls/{plan_id}/{rendition}/{index}.ts`),
never raw paths, and methods outside the ones the API uses become "other".

Each app has its own registry (not prometheus_client's global one), so several apps in one process
(tests) never collide.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segmenter.pool import Priority

if TYPE_CHECKING:
    from server.streaming import StreamingService

RENDER_SECONDS_BUCKETS = (0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)
"""Segment renders: ~0.1 s (intro) to ~0.4 s (4 s at 720p) warm, seconds when a clip decodes cold."""
REQUEST_SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Requests: a cache hit takes about a millisecond, a cold segment a render."""
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"})


class Metrics:
    """The app's metric instruments and its registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.renders = Counter(
            "hls_renders",
            "Segments this node encoded itself, by rendition, container and outcome (ok, error)",
            ["rendition", "container", "outcome"],
            registry=self.registry,
        )
        self.render_seconds = Histogram(
            "hls_render_seconds",
            "Wall time of one segment render in a worker (queueing not included)",
            ["rendition", "container"],
            buckets=RENDER_SECONDS_BUCKETS,
            registry=self.registry,
        )
        self.rejections = Counter(
            "hls_rejections",
            "Requests answered with a JSON error, by error code (e.g. overloaded, rate_limited, "
            "payload_too_large, invalid_plan) and HTTP status",
            ["reason", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "hls_http_request_duration_seconds",
            "Time from request to the last byte of the answer, by method, route template and status class",
            ["method", "route", "status_class"],
            buckets=REQUEST_SECONDS_BUCKETS,
            registry=self.registry,
        )
        self.database_errors = Counter(
            "hls_database_errors",
            "Repository calls that failed, by operation and kind (unavailable: cannot reach the database)",
            ["operation", "kind"],
            registry=self.registry,
        )

    @contextmanager
    def render(self, rendition: str, container: str) -> Iterator[None]:
        """Count and time one render: outcome "error" when the block raises (the error goes on)."""
        started = time.perf_counter()
        try:
            yield
        except BaseException:
            self.renders.labels(rendition, container, "error").inc()
            raise
        self.render_seconds.labels(rendition, container).observe(time.perf_counter() - started)
        self.renders.labels(rendition, container, "ok").inc()

    def rejected(self, reason: str, status: int) -> None:
        self.rejections.labels(reason, str(status)).inc()

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in KNOWN_METHODS else "other"
        self.request_seconds.labels(method, route, status_class(status)).observe(seconds)

    def database_error(self, operation: str, kind: str) -> None:
        self.database_errors.labels(operation, kind).inc()

    def watch(self, service: StreamingService) -> StreamingCollector:
        """Report the service's caches, queue and shared tier at every scrape."""
        collector = StreamingCollector(service)
        self.registry.register(collector)
        return collector

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


def counted_handlers(handlers: Mapping[type, ExceptionHandler], metrics: Metrics) -> dict[type, ExceptionHandler]:
    """The app's exception handlers, each also counting its answer in hls_rejections_total.

    The reason label is the `error` code of the JSON body the handler wrote (server.errors gives every
    error answer that shape), so the metric names exactly what clients were told.
    """

    def counted(handler: ExceptionHandler) -> ExceptionHandler:
        async def handle(request: Request, error: Exception) -> Response:
            response = await handler(request, error)
            metrics.rejected(error_code(response), response.status_code)
            return response

        return handle

    return {exception: counted(handler) for exception, handler in handlers.items()}


def error_code(response: Response) -> str:
    try:
        code = json.loads(response.body)["error"]
    except (ValueError, TypeError, KeyError):
        return "unknown"
    return code if isinstance(code, str) else "unknown"


def status_class(status: int) -> str:
    return f"{status // 100}xx"


class StreamingCollector(Collector):
    """Gauges and counters read from the streaming service when Prometheus scrapes."""

    def __init__(self, service: StreamingService) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        engine = self.service.engine
        yield _gauge("hls_segment_cache_bytes", "Bytes of encoded segments held in memory", engine.segments.nbytes)
        yield _gauge(
            "hls_segment_cache_budget_bytes", "Budget of the in-memory segment cache", engine.segments.budget
        )
        yield _counter(
            "hls_segment_cache_hits",
            "Segment requests answered from memory or by joining a render under way",
            engine.segments.hits,
        )
        yield _counter(
            "hls_segment_cache_misses", "Segment requests that had to start a render", engine.segments.misses
        )
        yield _gauge("hls_frame_store_bytes", "Bytes of prepared clip frames on disk", engine.frames.nbytes)
        yield _gauge("hls_frame_store_budget_bytes", "Disk budget of the prepared frame store", engine.frames.budget)
        yield _gauge("hls_frame_store_files", "Clip/size pairs prepared on disk", engine.frames.prepared)
        progress = engine.preparation()
        yield _gauge("hls_clip_preparation_pending", "Clip/size pairs queued for preparation", progress.pending)
        preparation = CounterMetricFamily(
            "hls_clip_preparations", "Clip/size pairs prepared in the background since start", labels=["result"]
        )
        preparation.add_metric(["prepared"], progress.prepared)
        preparation.add_metric(["failed"], progress.failed)
        yield preparation
        yield _counter(
            "hls_clip_preparation_seconds", "Time spent preparing clips in the background", progress.seconds
        )
        yield _gauge("hls_render_processes", "Live render worker processes", len(engine.pool.worker_pids()))
        yield _counter(
            "hls_render_workers_replaced", "Render workers that died (crash, kill, OOM) and were replaced",
            engine.pool.replaced,
        )
        queue = GaugeMetricFamily(
            "hls_render_queue_depth",
            "Renders waiting for a worker: urgent (a player waits) and ahead (look-ahead)",
            labels=["priority"],
        )
        queue.add_metric(["urgent"], engine.pool.queued(Priority.URGENT))
        queue.add_metric(["ahead"], engine.pool.queued(Priority.AHEAD))
        yield queue
        yield _counter(
            "hls_renders_cancelled", "Queued renders dropped because every waiting player left", engine.pool.cancelled
        )
        if engine.flight is not None:
            counts = engine.flight.shared.counters()
            shared = CounterMetricFamily(
                "hls_shared_store_operations",
                "Shared S3 segment tier: reads that found a segment (hit) or not (miss), segments stored",
                labels=["result"],
            )
            for result in ("hits", "misses", "stored"):
                shared.add_metric([result], counts[result])
            yield shared
            yield _counter(
                "hls_shared_store_failures",
                "Shared S3 segment tier reads and writes that failed (the node rendered locally instead)",
                counts["failures"],
            )
            flight = CounterMetricFamily(
                "hls_cluster_renders",
                "Cold segments by how they were produced: rendered here under the render lease (led), served "
                "from the shared tier after another node rendered them (followed), rendered without the lease "
                "because another node held it too long (waited_out) or the lock service did not answer (unleased)",
                labels=["outcome"],
            )
            for outcome, count in asdict(engine.flight.counts()).items():
                flight.add_metric([outcome], count)
            yield flight


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


METRICS_ROUTES = [Route("/metrics", metrics_endpoint, methods=["GET"])]
