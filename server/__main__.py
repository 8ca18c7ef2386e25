"""`python -m server`: prepare the sample library if needed and serve with uvicorn.

SIGTERM (what an orchestrator sends) is a clean stop: uvicorn closes the listening socket at once, lets
in-flight requests finish for up to HLS_SHUTDOWN_GRACE_SECONDS, then the app's shutdown closes the render pool
(waiting a few seconds more for a render still running) and the process exits 0.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
from pathlib import Path
from types import FrameType

import uvicorn

from assets.library import ensure_sample_library
from server.app import create_app
from server.config.logs import configure_logging
from server.config.settings import ConfigError, Settings, settings_from_env, validated


def parse_args(argv: list[str], defaults: Settings) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m server", description="Workout HLS segment-on-demand server")
    parser.add_argument("--host", default=defaults.host, help=f"listen address (HLS_HOST; default {defaults.host})")
    parser.add_argument("--port", type=int, default=defaults.port, help=f"port (HLS_PORT; default {defaults.port})")
    parser.add_argument(
        "--data-dir", type=Path, default=defaults.data_dir, help="clips and plan store (HLS_DATA_DIR; default ./data)"
    )
    args = parser.parse_args(argv)
    return validated(dataclasses.replace(defaults, host=args.host, port=args.port, data_dir=args.data_dir))


def exit_cleanly(signum: int, frame: FrameType | None) -> None:
    """SIGTERM outside uvicorn's own handling: before it serves (nothing in flight yet), and after its
    graceful shutdown, when it raises the signal again for the previous handler: that is a clean exit."""
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    try:
        settings = parse_args(sys.argv[1:] if argv is None else argv, settings_from_env())
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    signal.signal(signal.SIGTERM, exit_cleanly)
    ensure_sample_library(settings.clips_dir, announce=True)
    uvicorn.run(  # logging as configured above; the access log is the request-id middleware's
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level=settings.log_level,
        access_log=False,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
