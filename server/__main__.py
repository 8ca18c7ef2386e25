"""`python -m server`: prepare the sample library if needed and serve with uvicorn."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import uvicorn

from assets.library import ensure_sample_library
from server.app import create_app
from server.config import ConfigError, Settings, settings_from_env, validated


def parse_args(argv: list[str], defaults: Settings) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m server", description="Workout HLS segment-on-demand server")
    parser.add_argument("--host", default=defaults.host, help=f"listen address (HLS_HOST; default {defaults.host})")
    parser.add_argument("--port", type=int, default=defaults.port, help=f"port (HLS_PORT; default {defaults.port})")
    parser.add_argument(
        "--data-dir", type=Path, default=defaults.data_dir, help="clips and plan store (HLS_DATA_DIR; default ./data)"
    )
    args = parser.parse_args(argv)
    return validated(dataclasses.replace(defaults, host=args.host, port=args.port, data_dir=args.data_dir))


def main(argv: list[str] | None = None) -> int:
    try:
        settings = parse_args(sys.argv[1:] if argv is None else argv, settings_from_env())
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    ensure_sample_library(settings.clips_dir, announce=True)
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, log_level="info", access_log=settings.access_log
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
