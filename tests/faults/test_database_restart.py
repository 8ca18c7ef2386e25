"""Fault: PostgreSQL restarted while players stream (a private cluster, see private_postgres).

A player keeps fetching the playlists and segments of an existing plan while
the database is stopped and started again. Playback must not notice (every
fetch 200: rendering reads the catalogue snapshot and the presentation is held
in memory), plan creation must answer 503 `database_unavailable` with
Retry-After while the database is down (not 500, not a hang: httpx's timeout
is the bound), and work again once it is back, without restarting the server.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import pytest

from assets import postgres_repository
from assets.postgres_repository import PostgresRepository
from assets.repository import RepositoryUnavailable
from tests.conftest import running_server
from tests.faults.private_postgres import private_postgres

STREAMED = {"items": [{"exercise_id": "squat", "work_seconds": 8, "rest_seconds": 4}], "rounds": 2}
CREATED_WHILE_DOWN = {"items": [{"exercise_id": "lunge", "work_seconds": 6, "rest_seconds": 0}]}
RENDITION = "360p"
REQUEST_TIMEOUT_SECONDS = 30.0
"""Bounds every request: a request hanging on the database fails the test instead of the test hanging."""
FETCHES_PER_PHASE = 10
PHASE_TIMEOUT_SECONDS = 300.0
PLAYER_PAUSE_SECONDS = 0.05


class Player(threading.Thread):
    """Fetches the multivariant playlist, the media playlist and each segment in turn, round and round."""

    def __init__(self, server, plan: dict) -> None:
        super().__init__(name="player", daemon=True)
        self.urls = [plan["playlist_url"], plan["media_playlist_urls"][RENDITION]]
        media = plan["media_playlist_urls"][RENDITION].removesuffix("index.m3u8")
        self.urls += [f"{media}{index}.ts" for index in range(plan["segment_count"])]
        self.statuses: list[tuple[str, int | str]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS) as client:
            while not self.stopping.is_set():
                for url in self.urls:
                    try:
                        self.statuses.append((url, client.get(url).status_code))
                    except httpx.HTTPError as error:
                        self.statuses.append((url, f"{type(error).__name__}: {error}"))
                    if self.stopping.wait(PLAYER_PAUSE_SECONDS):
                        return

    def fetch_more(self, count: int) -> None:
        """Wait until the player has made `count` more fetches."""
        target, deadline = len(self.statuses) + count, time.monotonic() + PHASE_TIMEOUT_SECONDS
        while len(self.statuses) < target:
            assert self.is_alive() and time.monotonic() < deadline, "the player stopped fetching"
            time.sleep(0.1)


def post_plan(server, plan: dict) -> httpx.Response:
    return httpx.post(server.url("/api/plans"), json=plan, timeout=REQUEST_TIMEOUT_SECONDS)


def test_postgresql_restarted_while_a_player_streams(tmp_path, sample_clips_dir):
    with private_postgres() as database:
        env = {"DATABASE_URL": database.dsn, "HLS_WARM_CLIPS": "0"}
        with running_server(tmp_path, sample_clips_dir, env) as server:
            streamed = post_plan(server, STREAMED)
            assert streamed.status_code == 201
            player = Player(server, streamed.json())
            player.start()
            try:
                player.fetch_more(FETCHES_PER_PHASE)
                database.stop()
                player.fetch_more(FETCHES_PER_PHASE)
                refused = post_plan(server, CREATED_WHILE_DOWN)
                assert refused.status_code == 503, refused.text
                assert refused.json()["error"] == "database_unavailable"
                assert refused.headers["retry-after"].isdigit()
                player.fetch_more(FETCHES_PER_PHASE)
                database.start()
                accepted = post_plan(server, CREATED_WHILE_DOWN)
                assert accepted.status_code == 201, accepted.text
                player.fetch_more(FETCHES_PER_PHASE)
            finally:
                player.stopping.set()
                player.join(REQUEST_TIMEOUT_SECONDS)
            failures = [(url, status) for url, status in player.statuses if status != 200]
            assert failures == []
            assert len(player.statuses) >= 4 * FETCHES_PER_PHASE


SILENT_CONNECT_TIMEOUT_SECONDS = 0.5
SAFETY_NET_SECONDS = 30.0
"""Only there so a regression fails the test instead of hanging it."""


def test_a_database_that_accepts_connections_but_never_answers_is_unavailable_not_a_hang(monkeypatch):
    monkeypatch.setattr(postgres_repository, "CONNECT_TIMEOUT_SECONDS", SILENT_CONNECT_TIMEOUT_SECONDS)
    with socket.socket() as silent:  # the kernel completes the handshake; nobody ever reads or answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        repository = PostgresRepository(f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/postgres")

        async def save() -> None:
            try:
                await asyncio.wait_for(repository.save_plan("0" * 20, "{}", []), SAFETY_NET_SECONDS)
            finally:
                await repository.close()

        with pytest.raises(RepositoryUnavailable):
            asyncio.run(save())
