"""A cluster on this machine: `python -m server` nodes sharing PostgreSQL and S3, nginx in front.

What the cluster test and `bench/cluster.py` run: every node a separate process on its own loopback
port, the real balancer (`infra.balancer`) as a process with its configuration, pid and logs in a
scratch directory, listening on 127.0.0.1 only. PostgreSQL and the S3 endpoint are the caller's.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from infra.balancer import Balancer, nginx_conf
from tests.conftest import start_server_process

START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 15.0
ORPHAN_EXIT_SECONDS = 10.0
"""How long a killed node's render processes may take to see their socket close and exit."""
POLL_SECONDS = 0.1
S3_BUCKET = "cluster-segments"
S3_PREFIX = "segments/"
SIGNING_KEY = "local-cluster-signing-key"
"""Every node signs with the same key, as docs/operations.md requires."""


ADMIN_DATABASE_URL = os.environ.get("HLS_TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
"""A PostgreSQL role that may create databases (the tests' HLS_TEST_POSTGRES_URL)."""


async def _execute(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def scratch_database(admin_url: str = ADMIN_DATABASE_URL) -> Iterator[str]:
    """The URL of a new, empty database on `admin_url`'s server, dropped on exit."""
    name = f"hls_cluster_{secrets.token_hex(6)}"
    asyncio.run(_execute(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def node_environment(
    database_url: str, s3_endpoint: str, frames_dir: Path, render_workers: int, bucket: str = S3_BUCKET
) -> dict[str, str]:
    """Settings every node of the local cluster shares."""
    return {
        "DATABASE_URL": database_url,
        "HLS_S3_BUCKET": bucket,
        "HLS_S3_PREFIX": S3_PREFIX,
        "HLS_S3_ENDPOINT_URL": s3_endpoint,
        "HLS_S3_REGION": "us-east-1",
        "HLS_SIGNING_KEY": SIGNING_KEY,
        "HLS_FRAME_STORE_DIR": str(frames_dir),
        "HLS_RENDER_WORKERS": str(render_workers),
        "HLS_WARM_CLIPS": "0",  # a plan's clips are prepared by its first renders, once, in the shared store
        "HLS_RATE_LIMIT_PER_MINUTE": "0",  # every player comes from 127.0.0.1
        "HLS_TRUSTED_PROXIES": "127.0.0.1",
        "HLS_LOG_FORMAT": "text",
        "PYTHONUNBUFFERED": "1",
    }


@dataclass
class Node:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base(self) -> str:
        return f"http://{self.address}"

    def url(self, path: str) -> str:
        return self.base + path

    def health(self) -> dict:
        return httpx.get(self.url("/health"), timeout=10).json()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass(frozen=True)
class AccessLine:
    """One request as the balancer logged it."""

    method: str
    path: str
    status: int
    plan: str
    upstreams: tuple[str, ...]
    """Every node tried, in order (more than one: the balancer failed over)."""
    upstream_statuses: tuple[str, ...]


ACCESS_LINE = re.compile(
    r'"(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d{3}) \d+ plan=(?P<plan>\S+) '
    r'upstream="(?P<upstreams>[^"]*)" upstream_status="(?P<statuses>[^"]*)"'
)


def parse_access_line(line: str) -> AccessLine | None:
    """A line of the `cluster` log format (`infra.balancer`), or None for anything else."""
    match = ACCESS_LINE.search(line)
    if match is None:
        return None

    def hops(field: str) -> tuple[str, ...]:
        return tuple(hop.strip() for hop in re.split(r"[,:]\s", field) if hop.strip() and hop.strip() != "-")

    return AccessLine(
        method=match["method"],
        path=match["path"],
        status=int(match["status"]),
        plan=match["plan"],
        upstreams=hops(match["upstreams"]),
        upstream_statuses=hops(match["statuses"]),
    )


@dataclass
class LocalCluster:
    nodes: list[Node]
    balancer_url: str
    balancer_dir: Path

    def url(self, path: str) -> str:
        return self.balancer_url + path

    def node_at(self, address: str) -> Node:
        return next(node for node in self.nodes if node.address == address)

    def access_log(self) -> list[AccessLine]:
        path = self.balancer_dir / "access.log"
        lines = path.read_text().splitlines() if path.exists() else []
        return [parsed for line in lines if (parsed := parse_access_line(line)) is not None]

    def kill(self, node: Node) -> list[int]:
        """SIGKILL, as the OOM killer or a lost machine would. Its render processes should see their
        sockets close and exit by themselves: those still there after ORPHAN_EXIT_SECONDS are killed
        too, and returned."""
        workers = [int(pid) for pid in node.health().get("render_processes", [])]
        node.process.send_signal(signal.SIGKILL)
        node.process.wait()
        deadline = time.monotonic() + ORPHAN_EXIT_SECONDS
        while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        orphans = [pid for pid in workers if _running(pid)]
        for pid in orphans:
            os.kill(pid, signal.SIGKILL)
        return orphans


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@contextmanager
def _node(name: str, root: Path, clips_dir: Path, environment: Mapping[str, str]) -> Iterator[Node]:
    data_dir = root / name / "data"
    data_dir.mkdir(parents=True)
    (data_dir / "exercises").symlink_to(clips_dir, target_is_directory=True)
    port = free_port()
    log_path = root / name / "server.log"
    with open(log_path, "wb") as log:
        process = start_server_process(data_dir, port, log, environment)
    node = Node(name, port, process, log_path)
    try:
        yield node
    finally:
        _stop(process, signal.SIGTERM)


def _stop(process: subprocess.Popen[bytes], sig: int) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(node: Node, deadline: float) -> None:
    while True:
        if not node.alive:
            raise RuntimeError(f"{node.name} exited while starting: {node.log_path.read_text()[-4000:]}")
        try:
            if httpx.get(node.url("/ready"), timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{node.name} not ready in time: {node.log_path.read_text()[-4000:]}")
        time.sleep(POLL_SECONDS)


@contextmanager
def _balancer(root: Path, nodes: Sequence[Node], routing: str) -> Iterator[str]:
    """nginx in front of `nodes`, on a free loopback port; yields its base URL."""
    if shutil.which("nginx") is None:
        raise RuntimeError("nginx is not installed (./scripts/test installs nginx-light with apt-get)")
    directory = root / "balancer"
    directory.mkdir()
    port = free_port()
    balancer = Balancer(
        listen=f"127.0.0.1:{port}",
        nodes=[node.address for node in nodes],
        pid_file=str(directory / "nginx.pid"),
        access_log=str(directory / "access.log"),
        error_log=str(directory / "error.log"),
        temp_dir=str(directory),
        user="root" if os.geteuid() == 0 else None,
        worker_processes="1",
        routing=routing,
    )
    conf = directory / "nginx.conf"
    conf.write_text(nginx_conf(balancer))
    process = subprocess.Popen(
        ["nginx", "-e", str(directory / "error.log"), "-p", str(directory), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"nginx exited: {(directory / 'error.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("nginx did not listen in time") from None
                time.sleep(POLL_SECONDS)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process, signal.SIGTERM)  # fast shutdown of the master and its workers


@contextmanager
def local_cluster(
    root: Path,
    clips_dir: Path,
    environment: Mapping[str, str],
    nodes: int = 3,
    routing: str = "plan",
    start_timeout: float = START_TIMEOUT_SECONDS,
) -> Iterator[LocalCluster]:
    """`nodes` server processes, started together as an orchestrator starts replicas (on an empty
    database each may find no exercise and load the sample catalogue: one transaction each, so none sees
    half of it), each ready, then nginx in front of them. `start_timeout` bounds the whole start (preparing every clip, with
    HLS_WARM_CLIPS=1 and a cold frame store, takes minutes). Everything started is stopped on exit."""
    with ExitStack() as stack:
        deadline = time.monotonic() + start_timeout
        started = [stack.enter_context(_node(f"node-{n + 1}", root, clips_dir, environment)) for n in range(nodes)]
        for node in started:
            _wait_ready(node, deadline)
        balancer_url = stack.enter_context(_balancer(root, started, routing))
        yield LocalCluster(started, balancer_url, root / "balancer")
