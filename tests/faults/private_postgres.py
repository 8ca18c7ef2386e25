"""A private PostgreSQL cluster for tests that stop and start the database.

The machine's shared PostgreSQL (127.0.0.1:5432) serves other tests and must
never be restarted, so fault tests get their own: `initdb` into a temporary
directory owned by the `postgres` user, served on a free loopback port, with
trust authentication and fsync off (nothing in it needs to survive a crash).
"""

from __future__ import annotations

import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import free_port

POSTGRES_USER = "postgres"
PG_CTL_TIMEOUT_SECONDS = 60
INITDB_TIMEOUT_SECONDS = 120


def postgres_bin() -> Path:
    """The newest installed server's binaries (Debian: /usr/lib/postgresql/<major>/bin)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not candidates:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return candidates[-1].parent


class PrivateCluster:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.running = False

    @property
    def dsn(self) -> str:
        return f"postgresql://{POSTGRES_USER}@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *arguments: str) -> None:
        command = [str(postgres_bin() / "pg_ctl"), "-D", str(self.data), "-w", "-t", str(PG_CTL_TIMEOUT_SECONDS)]
        as_postgres([*command, *arguments], PG_CTL_TIMEOUT_SECONDS + 10)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} -c fsync=off"
        self._pg_ctl("-l", str(self.log), "-o", options, "start")
        self.running = True

    def stop(self) -> None:
        """Fast shutdown: open sessions are terminated, as when an operator restarts the database."""
        self._pg_ctl("-m", "fast", "stop")
        self.running = False


def as_postgres(command: list[str], timeout: float) -> None:
    result = subprocess.run(
        ["runuser", "-u", POSTGRES_USER, "--", *command], capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({result.returncode}): {result.stdout}{result.stderr}")


@contextmanager
def private_postgres() -> Iterator[PrivateCluster]:
    """A started private cluster; stopped and deleted on exit."""
    account = pwd.getpwnam(POSTGRES_USER)
    root = Path(tempfile.mkdtemp(prefix="hls-faults-pg-"))
    try:
        shutil.chown(root, account.pw_uid, account.pw_gid)
        cluster = PrivateCluster(root, free_port())
        initdb = [str(postgres_bin() / "initdb"), "-D", str(cluster.data), "--auth=trust", "-U", POSTGRES_USER]
        as_postgres([*initdb, "--no-sync", "--encoding=UTF8"], INITDB_TIMEOUT_SECONDS)
        cluster.start()
        try:
            yield cluster
        finally:
            if cluster.running:
                cluster.stop()
    finally:
        shutil.rmtree(root)
