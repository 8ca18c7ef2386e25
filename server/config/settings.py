"""Server settings: defaults, overridden by environment variables, then by command-line options."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from server.config.logs import LOG_FORMATS, LOG_LEVELS

MIB = 1024 * 1024
ENV_PREFIX = "HLS_"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_HLSJS_PATH = REPO_ROOT / "node_modules" / "hls.js" / "dist" / "hls.min.js"
"""Where `npm ci` at the repository root puts hls.js; an installed copy sets HLS_HLSJS_PATH instead."""


def available_cores() -> int:
    """CPUs this process may use (a container's cpuset, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class ConfigError(ValueError):
    """A setting has a value the server cannot use."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    """Listen address (`--host`); 0.0.0.0 in a container."""
    port: int = 8000
    """Listen port (`--port`)."""
    data_dir: Path = Path("data")
    """Sample clips, the embedded SQLite store, uploaded clips and the S3 clip cache (`--data-dir`)."""
    cors_origins: tuple[str, ...] = ("*",)
    """Origins allowed to fetch playlists and segments from a browser (comma-separated; `*` for any)."""
    segment_cache_mib: int = 256
    """Encoded segments kept in memory (LRU): about 600 four-second 720p segments."""
    frame_store_mib: int = 20480
    """Disk for prepared clip frames (raw pictures per clip and rendition size, memory-mapped by every render
    process; least recently used files go first). The sixteen sample clips take about 5.6 GiB at the four
    renditions from 360p up (the 234p baseline adds about 0.15 GiB: 416x234 is 0.42 of 640x360's pixels,
    and 360p is 6 % of the four); a clip whose frames were dropped costs 1-5 s to prepare again, so size this to the clips
    in use. Disk, not memory: the kernel keeps the pages it can and drops them under pressure."""
    frame_store_dir: Path | None = None
    """Where prepared frames live (default: `frames/` in the data directory). Local disk, not tmpfs: tmpfs
    pages are shared memory the kernel cannot drop. Nodes on one machine may share it."""
    render_workers: int = field(default_factory=lambda: available_cores())
    """Render worker processes (default: the cores this process may run on). x264 runs one thread per
    segment: segments render side by side, one per core."""
    render_processes: bool = True
    """Render in child processes (crash isolation, every core). `0` renders in server threads, for profiling
    or where processes cannot be started; then one crash in FFmpeg ends the server."""
    render_queue: int = 8
    """Segments players wait for that may queue for a render worker; more get 503 + Retry-After."""
    look_ahead: int = 2
    """Segments rendered in the background after each one a player asks for."""
    warm_clips: bool = True
    """Prepare every clip's frames at start-up and whenever one is added, in the background, and keep
    `/ready` at 503 until that is done, so the first segments are fast. `0`: prepare on first use."""
    access_log: bool = True
    """One log line per request (method, route, status, duration, bytes, request id)."""
    log_format: str = "auto"
    """Log lines as `json` (one object per line), `text`, or `auto`: text on a terminal, JSON otherwise."""
    log_level: str = "info"
    """Least severe level logged: debug, info, warning or error."""
    s3_bucket: str | None = None
    """Enables the shared segment tier in S3-compatible storage (credentials from the AWS environment)."""
    s3_prefix: str = "segments/"
    """Key prefix of shared segments in HLS_S3_BUCKET."""
    s3_endpoint_url: str | None = None
    """S3-compatible endpoint (MinIO, Ceph...) for the shared tier and clip bucket; AWS when unset."""
    s3_region: str | None = None
    """Region of both buckets; boto3's default (AWS_DEFAULT_REGION) when unset."""
    database_url: str | None = field(default=None)
    """PostgreSQL (postgresql://...) for exercises, categories and plans; the embedded SQLite file while unset."""
    admin_token: str | None = field(default=None, repr=False)
    """Bearer token for catalogue writes (HLS_ADMIN_TOKEN); unset switches catalogue writes off."""
    clip_s3_bucket: str | None = None
    """Keep exercise clips in this S3-compatible bucket (HLS_CLIP_S3_BUCKET) instead of the data directory."""
    clip_s3_prefix: str = "clips/"
    """Key prefix of clips in HLS_CLIP_S3_BUCKET."""
    clip_url_seconds: int = 3600
    """Lifetime of the download URLs handed out for original clips."""
    max_upload_mib: int = 500
    """Largest clip upload accepted (413 beyond)."""
    catalogue_refresh_seconds: int = 30
    """How often a node re-reads the catalogue, to see writes made through other nodes."""
    signing_key: str | None = field(default=None, repr=False)
    """Key for the server's own signed clip URLs (local clip storage); random per process when unset."""
    hlsjs_path: Path = DEFAULT_HLSJS_PATH
    """hls.js for the web page, served as /vendor/hls.min.js (404 while the file is missing)."""
    render_timeout_seconds: float = 30.0
    """Longest a request waits for its segment (queue included) before 504 render_timeout: about ten
    cold 1080p renders on this machine, far past any healthy wait, short of a player's own timeout."""
    shutdown_grace_seconds: float = 20.0
    """On SIGTERM, how long in-flight requests may take to finish (inside Kubernetes' default 30 s)."""
    url_signing_key: str | None = field(default=None, repr=False)
    """Enables signed, expiring stream URLs: every /hls/{plan_id}/ request then needs ?token= (HLS_URL_SIGNING_KEY)."""
    url_ttl_seconds: int = 6 * 3600
    """Lifetime of the stream tokens handed out in plan documents."""
    rate_limit_per_minute: int = 30
    """Plan creations and generations per client per minute (token bucket refill); 0 switches limiting off."""
    rate_limit_burst: int = 10
    """Requests a client may make at once before the per-minute rate applies."""
    trusted_proxies: tuple[str, ...] = ()
    """Peer addresses whose X-Forwarded-For names the real client (for rate limits); none by default."""

    @property
    def clips_dir(self) -> Path:
        return self.data_dir / "exercises"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "plans.sqlite3"


def _int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from None


def _float(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {value!r}") from None


def settings_from_env(environ: Mapping[str, str] = os.environ) -> Settings:
    """HLS_HOST, HLS_PORT, HLS_DATA_DIR, HLS_CORS_ORIGINS (comma-separated),
    HLS_SEGMENT_CACHE_MIB, HLS_FRAME_STORE_MIB, HLS_FRAME_STORE_DIR, HLS_RENDER_WORKERS, HLS_RENDER_PROCESSES (0/1), HLS_RENDER_QUEUE, HLS_LOOK_AHEAD,
    HLS_WARM_CLIPS (0/1), HLS_ACCESS_LOG (0/1), HLS_S3_BUCKET, HLS_S3_PREFIX, HLS_S3_ENDPOINT_URL, HLS_S3_REGION,
    HLS_ADMIN_TOKEN, HLS_CLIP_S3_BUCKET, HLS_CLIP_S3_PREFIX, HLS_CLIP_URL_SECONDS, HLS_MAX_UPLOAD_MIB,
    HLS_CATALOGUE_REFRESH_SECONDS, HLS_SIGNING_KEY, HLS_LOG_FORMAT, HLS_LOG_LEVEL, HLS_HLSJS_PATH,
    HLS_RENDER_TIMEOUT_SECONDS, HLS_SHUTDOWN_GRACE_SECONDS, HLS_URL_SIGNING_KEY, HLS_URL_TTL_SECONDS,
    HLS_RATE_LIMIT_PER_MINUTE, HLS_RATE_LIMIT_BURST, HLS_TRUSTED_PROXIES (comma-separated), DATABASE_URL."""
    settings = Settings()
    changes: dict[str, object] = {}
    if f"{ENV_PREFIX}HOST" in environ:
        changes["host"] = environ[f"{ENV_PREFIX}HOST"]
    if f"{ENV_PREFIX}DATA_DIR" in environ:
        changes["data_dir"] = Path(environ[f"{ENV_PREFIX}DATA_DIR"])
    if environ.get(f"{ENV_PREFIX}FRAME_STORE_DIR"):
        changes["frame_store_dir"] = Path(environ[f"{ENV_PREFIX}FRAME_STORE_DIR"])
    if environ.get(f"{ENV_PREFIX}HLSJS_PATH"):
        changes["hlsjs_path"] = Path(environ[f"{ENV_PREFIX}HLSJS_PATH"])
    if f"{ENV_PREFIX}CORS_ORIGINS" in environ:
        origins = tuple(o.strip() for o in environ[f"{ENV_PREFIX}CORS_ORIGINS"].split(",") if o.strip())
        changes["cors_origins"] = origins
    if f"{ENV_PREFIX}TRUSTED_PROXIES" in environ:
        proxies = tuple(p.strip() for p in environ[f"{ENV_PREFIX}TRUSTED_PROXIES"].split(",") if p.strip())
        changes["trusted_proxies"] = proxies
    for name in (
        "port",
        "segment_cache_mib",
        "frame_store_mib",
        "render_workers",
        "render_queue",
        "look_ahead",
        "clip_url_seconds",
        "max_upload_mib",
        "catalogue_refresh_seconds",
        "url_ttl_seconds",
        "rate_limit_per_minute",
        "rate_limit_burst",
    ):
        key = f"{ENV_PREFIX}{name.upper()}"
        if key in environ:
            changes[name] = _int(key, environ[key])
    for name in ("render_timeout_seconds", "shutdown_grace_seconds"):
        key = f"{ENV_PREFIX}{name.upper()}"
        if key in environ:
            changes[name] = _float(key, environ[key])
    for name in (
        "s3_bucket",
        "s3_prefix",
        "s3_endpoint_url",
        "s3_region",
        "admin_token",
        "clip_s3_bucket",
        "clip_s3_prefix",
        "signing_key",
        "url_signing_key",
    ):
        key = f"{ENV_PREFIX}{name.upper()}"
        if environ.get(key):
            changes[name] = environ[key]
    for name in ("log_format", "log_level"):
        key = f"{ENV_PREFIX}{name.upper()}"
        if environ.get(key):
            changes[name] = environ[key].strip().lower()
    for name in ("warm_clips", "access_log", "render_processes"):
        key = f"{ENV_PREFIX}{name.upper()}"
        if key in environ:
            changes[name] = environ[key].strip().lower() not in ("0", "false", "no", "off")
    if environ.get("DATABASE_URL"):
        changes["database_url"] = environ["DATABASE_URL"]
    return validated(replace(settings, **changes))


def validated(settings: Settings) -> Settings:
    if not 0 <= settings.port <= 65535:
        raise ConfigError(f"port must be 0..65535, got {settings.port}")
    if settings.render_workers < 1 or settings.render_queue < 1:
        raise ConfigError("render workers and render queue must be at least 1")
    if settings.look_ahead < 0:
        raise ConfigError("look-ahead must be 0 or more segments")
    if settings.segment_cache_mib < 1 or settings.frame_store_mib < 1:
        raise ConfigError("cache budgets must be at least 1 MiB")
    if settings.database_url is not None and not settings.database_url.startswith(("postgres://", "postgresql://")):
        raise ConfigError("DATABASE_URL must be a postgresql:// URL (leave it unset for the embedded SQLite store)")
    if not 1 <= settings.clip_url_seconds <= 7 * 24 * 3600:
        raise ConfigError("clip URL lifetime must be 1 s .. 7 days (S3's presigning limit)")
    if settings.max_upload_mib < 1 or settings.catalogue_refresh_seconds < 1:
        raise ConfigError("upload limit and catalogue refresh interval must be at least 1")
    if settings.log_format not in LOG_FORMATS:
        raise ConfigError(f"log format must be one of {', '.join(LOG_FORMATS)}, got {settings.log_format!r}")
    if settings.log_level not in LOG_LEVELS:
        raise ConfigError(f"log level must be one of {', '.join(LOG_LEVELS)}, got {settings.log_level!r}")
    if not settings.render_timeout_seconds > 0 or not settings.shutdown_grace_seconds >= 0:
        raise ConfigError("the render timeout must be above 0 s and the shutdown grace at least 0 s")
    if not 60 <= settings.url_ttl_seconds <= 7 * 24 * 3600:
        raise ConfigError("stream URL lifetime must be 60 s .. 7 days")
    if settings.rate_limit_per_minute < 0 or settings.rate_limit_burst < 1:
        raise ConfigError("rate limit must be 0 (off) or more per minute, with a burst of at least 1")
    return settings


def frame_store_dir(settings: Settings) -> Path:
    return settings.frame_store_dir or settings.data_dir / "frames"
