"""Cache-hit serving under load: wrk against the server and against nginx serving the same bytes.

Both get the same wrk command and the same list of segment paths (picked at
random per request), so the only difference is what answers: the server's
in-memory LRU through Starlette and uvicorn, or Debian's nginx with sendfile
from disk (the page cache, after a warm-up).
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.harness import free_port

NGINX_CONF = """
user root;
worker_processes 2;
error_log {prefix}/error.log error;
pid {prefix}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types {{ video/mp2t ts; }}
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{ add_header Cache-Control "public, max-age=31536000, immutable"; }}
    }}
}}
"""

LUA = """
local paths = {{ {paths} }}
local think = {think_ms}
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
if think > 0 then
  -- a random pause averaging `think`, so the clients do not move in lockstep bursts
  delay = function() return math.random(0, 2 * think) end
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests_per_second: float
    megabytes_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def _milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _megabytes(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([KMG]?B)", value).groups()
    return float(number) * {"B": 1e-6, "KB": 1e-3, "MB": 1.0, "GB": 1e3}[unit] * (1.048576 if unit != "B" else 1)


def run_wrk(base: str, paths: list[str], connections: int, seconds: int, think_ms: int = 0) -> LoadResult:
    """wrk with 2 threads and `connections` clients; with `think_ms`, each client pauses between requests
    (uniformly 0..2 x think_ms, so on average think_ms)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA.format(paths=", ".join(f'"{p}"' for p in paths), think_ms=think_ms))
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    Path(script.name).unlink()
    percentiles = dict(re.findall(r"^\s+(\d+)%\s+(\S+)\s*$", output, re.MULTILINE))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    errors += int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", output)) else 0
    return LoadResult(
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        megabytes_per_second=_megabytes(re.search(r"Transfer/sec:\s+(\S+)", output).group(1)),
        p50_ms=_milliseconds(percentiles["50"]),
        p99_ms=_milliseconds(percentiles["99"]),
        errors=errors,
    )


@contextmanager
def nginx_serving(root: Path) -> Iterator[str]:
    """Debian's nginx serving `root` on a free loopback port; yields its base URL."""
    if shutil.which("nginx") is None:
        raise RuntimeError("nginx is not installed (scripts/bench installs it with apt-get)")
    prefix = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(NGINX_CONF.format(prefix=prefix, port=port, root=root))
    process = subprocess.Popen(["nginx", "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket_to(port):
                    break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(prefix, ignore_errors=True)


def socket_to(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=1)
