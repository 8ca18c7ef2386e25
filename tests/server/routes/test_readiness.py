"""GET /ready: 200 when database, clip storage and catalogue are ready; 503 naming what is not."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from assets.catalogue import Catalogue
from playlists.renditions import DEFAULT_RENDITIONS
from server.app import create_app
from server.config.settings import Settings
from tests.assets.repository_backends import admin_url, postgres_execute, scratch_postgres_database

READY_WITHIN_SECONDS = 60.0
EVERY_CHECK_OK = {
    "database": "ok",
    "clip_storage": "ok",
    "catalogue": "ok",
    "render_workers": "ok",
    "prepared_clips": "ok",
}


def wait_ready(client: TestClient, timeout: float = READY_WITHIN_SECONDS) -> httpx.Response:
    """Poll /ready until 200 (render processes take a moment to start); the last answer."""
    deadline = time.monotonic() + timeout
    while (response := client.get("/ready")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    return response


def test_a_started_node_is_ready_with_every_check_ok(new_data_dir):
    with TestClient(create_app(Settings(data_dir=new_data_dir(), warm_clips=False))) as client:
        response = wait_ready(client)
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": EVERY_CHECK_OK}


def two_exercise_data_dir(sample_clips_dir: Path, root: Path) -> Path:
    """A data directory whose library is two of the sample clips under ids of its own (a subset of the
    sample ids would be topped up with the rest), and the music: quick to prepare."""
    clips = root / "data" / "exercises"
    shutil.copytree(sample_clips_dir, clips)
    document = json.loads((clips / "catalogue.json").read_text())
    kept = [e for e in document["exercises"] if e["id"] in ("squat", "jumping_jack")]
    document["exercises"] = [{**e, "id": f"own_{e['id']}"} for e in kept]
    (clips / "catalogue.json").write_text(json.dumps(document))
    return root / "data"


def test_a_node_is_not_ready_until_its_render_processes_run_and_its_clips_are_prepared(
    sample_clips_dir, tmp_path
):
    """A fresh frame store: /ready says what it waits for (503), then 200 once every clip is prepared."""
    data_dir = two_exercise_data_dir(sample_clips_dir, tmp_path)
    settings = Settings(data_dir=data_dir, frame_store_dir=tmp_path / "frames", render_workers=1)
    with TestClient(create_app(settings)) as client:
        first = client.get("/ready")
        response = wait_ready(client, timeout=240)
        health = client.get("/health").json()
        service = client.app.state.service
        replaced = replace(service.clip_ref("own_squat"), version="a-replaced-clip")
        assert service.engine.prepare([replaced]) == len(DEFAULT_RENDITIONS)  # one per rendition size
        later = client.get("/ready")  # a clip added after start-up is prepared while the node serves
        assert service.engine.preparation().pending > 0
    assert first.status_code == 503
    waiting = first.json()["checks"]
    assert "clips" in waiting["prepared_clips"] or "render processes" in waiting["render_workers"]
    assert response.status_code == 200, response.text
    assert later.status_code == 200, later.text
    assert health["clips_prepared"] == health["clips_total"] == 2 * len(DEFAULT_RENDITIONS)  # two clips at every rendition size
    assert len(health["render_processes"]) == 1


def database_errors(client: TestClient) -> float:
    families = text_string_to_metric_families(client.get("/metrics").text)
    return sum(
        sample.value
        for family in families
        for sample in family.samples
        if sample.name == "hls_database_errors_total" and sample.labels["operation"] == "ping"
    )


def test_an_unreachable_database_makes_the_node_unready_but_still_alive(new_data_dir):
    with scratch_postgres_database() as dsn:
        settings = Settings(data_dir=new_data_dir(), warm_clips=False, database_url=dsn)
        with TestClient(create_app(settings)) as client:
            assert wait_ready(client).status_code == 200
            name = dsn.rsplit("/", 1)[1]
            postgres_execute(admin_url(), f'DROP DATABASE "{name}" WITH (FORCE)')
            response = client.get("/ready")
            health = client.get("/health")
            errors = database_errors(client)
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "not_ready" and body["detail"] == "not ready: database"
    assert body["checks"]["database"] != "ok"
    assert body["checks"]["clip_storage"] == body["checks"]["catalogue"] == "ok"
    assert health.status_code == 200
    assert errors >= 1


def test_a_missing_clip_directory_makes_the_node_unready_until_it_is_back(new_data_dir):
    data_dir = new_data_dir()
    with TestClient(create_app(Settings(data_dir=data_dir, warm_clips=False))) as client:
        assert wait_ready(client).status_code == 200
        moved = data_dir.with_name("moved-away")
        data_dir.rename(moved)
        try:
            response = client.get("/ready")
        finally:
            moved.rename(data_dir)
        again = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["detail"] == "not ready: clip_storage"
    assert "does not exist" in response.json()["checks"]["clip_storage"]
    assert again.status_code == 200


def test_an_empty_catalogue_makes_the_node_unready(new_data_dir, monkeypatch: pytest.MonkeyPatch):
    with TestClient(create_app(Settings(data_dir=new_data_dir(), warm_clips=False))) as client:
        monkeypatch.setattr(client.app.state.exercises, "snapshot", Catalogue({}))
        response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["catalogue"] == "no playable exercise is loaded"
