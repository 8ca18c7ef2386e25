"""Where plans persist: a small interface and its embedded SQLite implementation.

Plans are stored in their canonical JSON under their content-hash id, so
storing the same plan twice is a no-op. PostgreSQL arrives as a second
implementation of `PlanStore` in a later issue.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Protocol

SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS plans (
    id TEXT PRIMARY KEY,
    canonical_json TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)
"""


class PlanStore(Protocol):
    async def save(self, plan_id: str, canonical_json: str) -> bool:
        """Store a plan; True if it was new, False if that id was already stored."""
        ...

    async def load(self, plan_id: str) -> str | None:
        """The canonical JSON of a stored plan, or None."""
        ...

    async def close(self) -> None: ...


class SqlitePlanStore:
    """One SQLite file; calls run in a worker thread so the event loop never waits on disk."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute(SQLITE_SCHEMA)
        self._lock = threading.Lock()

    def _save(self, plan_id: str, canonical_json: str) -> bool:
        with self._lock:
            cursor = self._connection.execute(
                "INSERT OR IGNORE INTO plans (id, canonical_json) VALUES (?, ?)", (plan_id, canonical_json)
            )
            return cursor.rowcount == 1

    def _load(self, plan_id: str) -> str | None:
        with self._lock:
            row = self._connection.execute("SELECT canonical_json FROM plans WHERE id = ?", (plan_id,)).fetchone()
        return row[0] if row else None

    async def save(self, plan_id: str, canonical_json: str) -> bool:
        return await asyncio.to_thread(self._save, plan_id, canonical_json)

    async def load(self, plan_id: str) -> str | None:
        return await asyncio.to_thread(self._load, plan_id)

    async def close(self) -> None:
        with self._lock:
            self._connection.close()
