"""Entry point of a render process: `python -m segmenter.render_process FD NAME`.

Started by `segmenter.workers.RenderProcess`, which holds the other end of the
socket FD; everything the worker needs arrives over it. A separate module so the
worker's classes keep their importable names (`segmenter.workers.RenderKind`,
not `__main__.RenderKind`) when specs are unpickled.
"""

from __future__ import annotations

import sys
from multiprocessing.connection import Connection

from segmenter.workers import serve

if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])))
