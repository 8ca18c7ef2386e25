"""The catalogue API: browsing, admin writes, clip uploads checked with PyAV, download URLs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from assets.samples import SAMPLE_EXERCISES
from server.app import create_app
from server.config.settings import Settings

TOKEN = "test-admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
NEW_EXERCISE = {
    "id": "skater_jump",
    "name": "Skater jump",
    "difficulty": "intermediate",
    "jump": True,
    "categories": ["cardio", "legs"],
    "description": "Leap from side to side, landing on one leg.",
}


@pytest.fixture(scope="module")
def client(new_data_dir):
    settings = Settings(data_dir=new_data_dir(), warm_clips=False, admin_token=TOKEN, max_upload_mib=2)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory) -> Path:
    """A 2 s 640x360 H.264 clip made with the ffmpeg CLI."""
    path = tmp_path_factory.mktemp("clips") / "knees.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=30:duration=2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
    )
    return path


def test_listing_filters_by_category_difficulty_jump_and_text(client):
    legs = client.get("/api/exercises", params={"category": "legs"}).json()
    assert {e["id"] for e in legs["exercises"]} == {
        "squat", "lunge", "glute_bridge", "calf_raise", "high_knees", "jump_squat"
    }  # fmt: skip
    beginners = client.get("/api/exercises", params={"difficulty": "beginner"}).json()["exercises"]
    assert {e["difficulty"] for e in beginners} == {"beginner"}
    quiet = client.get("/api/exercises", params={"no_jump": "true"}).json()["exercises"]
    assert quiet and not any(e["jump"] for e in quiet)
    found = client.get("/api/exercises", params={"q": "BURP"}).json()["exercises"]
    assert [e["id"] for e in found] == ["burpee"]


def test_listing_pages_with_a_total_and_the_next_offset(client):
    first = client.get("/api/exercises", params={"limit": 4}).json()
    assert first["total"] >= len(SAMPLE_EXERCISES) == 16
    assert first["next_offset"] == 4 and len(first["exercises"]) == 4
    pages = [first]
    while pages[-1]["next_offset"] is not None:
        pages.append(client.get("/api/exercises", params={"limit": 4, "offset": pages[-1]["next_offset"]}).json())
        assert pages[-1]["total"] == first["total"]
    assert len(pages) == -(-first["total"] // 4)
    assert all(len(page["exercises"]) == 4 for page in pages[:-1]) and pages[-1]["exercises"]
    ids = [e["id"] for page in pages for e in page["exercises"]]
    assert len(ids) == len(set(ids)) == first["total"]
    assert set(ids) >= {sample.id for sample in SAMPLE_EXERCISES}


@pytest.mark.parametrize(
    "params", [{"limit": "0"}, {"limit": "101"}, {"offset": "-1"}, {"difficulty": "expert"}, {"colour": "red"}]
)
def test_bad_listing_parameters_are_a_422_naming_the_problem(client, params):
    response = client.get("/api/exercises", params=params)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


def test_one_exercise_and_a_missing_one(client):
    squat = client.get("/api/exercises/squat").json()
    assert squat["playable"] and squat["categories"] == ["legs", "strength"]
    assert client.get("/api/exercises/nope").status_code == 404


def test_writes_need_the_admin_token_401_without_403_with_a_wrong_one(client):
    assert client.post("/api/exercises", json=NEW_EXERCISE).status_code == 401
    wrong = client.post("/api/exercises", json=NEW_EXERCISE, headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 403
    assert client.delete("/api/exercises/squat").status_code == 401


def test_writes_are_off_when_the_server_has_no_admin_token(new_data_dir):
    with TestClient(create_app(Settings(data_dir=new_data_dir(), warm_clips=False))) as anonymous:
        response = anonymous.post("/api/exercises", json=NEW_EXERCISE, headers=ADMIN)
    assert response.status_code == 403 and response.json()["error"] == "admin_disabled"


def test_an_invalid_exercise_is_a_422_naming_each_field(client):
    bad = dict(NEW_EXERCISE, id="Skater Jump!", difficulty="expert", categories=[], extra=1)
    response = client.post("/api/exercises", json=bad, headers=ADMIN)
    assert response.status_code == 422
    named = {tuple(f["loc"]) for f in response.json()["fields"]}
    assert {("id",), ("difficulty",), ("categories",), ("extra",)} <= named


@pytest.mark.parametrize(
    "field, text",
    [("name", "Squat\u0000"), ("name", "Line\nbreak"), ("name_fr", "Pompe\u0007"), ("description", "nul \u0000 here")],
)
def test_control_characters_are_a_422_not_a_database_error(client, field, text):
    """Found by the API fuzzer: a NUL passed the length check, then broke SQLite's CHECK (500)."""
    response = client.post("/api/exercises", json=dict(NEW_EXERCISE, id="ctrl_chars", **{field: text}), headers=ADMIN)
    assert response.status_code == 422, response.text
    assert [f["loc"] for f in response.json()["fields"]] == [[field]]


def test_the_sample_exercises_have_their_french_names(client):
    names = {e["id"]: (e["name"], e["name_fr"]) for e in client.get("/api/exercises").json()["exercises"]}
    assert names["push_up"] == ("Push-up", "Pompe")
    assert names["plank"] == ("Plank", "Gainage (planche)")
    assert names["lunge"] == ("Lunge", "Fente")
    assert names["jumping_jack"] == ("Jumping Jack", "Jumping jack")
    assert names["mountain_climber"] == ("Mountain climber", "Grimpeur")
    assert names["glute_bridge"] == ("Glute bridge", "Pont fessier")
    assert names["jump_squat"] == ("Jump squat", "Squat sauté")


@pytest.mark.parametrize("name_fr", ["", "   ", "é" * 81, 42, ["Pompe"]])
def test_a_french_name_follows_the_rules_of_a_name(client, name_fr):
    response = client.post("/api/exercises", json=dict(NEW_EXERCISE, id="bad_french", name_fr=name_fr), headers=ADMIN)
    assert response.status_code == 422, response.text
    assert [f["loc"] for f in response.json()["fields"]] == [["name_fr"]]


def test_a_french_name_round_trips_and_french_screens_fall_back_to_english_without_one(client, clip_file):
    service = client.app.state.service
    document = dict(NEW_EXERCISE, id="knee_lift", name="Knee lift")
    created = client.post("/api/exercises", json=document, headers=ADMIN)
    assert created.status_code == 201 and created.json()["name_fr"] is None
    upload = client.put(
        "/api/exercises/knee_lift/clip", content=clip_file.read_bytes(), headers={**ADMIN, "Content-Type": "video/mp4"}
    )
    assert upload.status_code == 200, upload.text
    assert service.clip_ref("knee_lift", "fr").name == "Knee lift"  # no French name: the English one is drawn

    named = client.put("/api/exercises/knee_lift", json=dict(document, name_fr="  Montée de genou  "), headers=ADMIN)
    assert named.status_code == 200 and named.json()["name_fr"] == "Montée de genou"
    assert client.get("/api/exercises/knee_lift").json()["name_fr"] == "Montée de genou"
    assert service.clip_ref("knee_lift", "fr").name == "Montée de genou"
    assert service.clip_ref("knee_lift").name == "Knee lift"

    cleared = client.put("/api/exercises/knee_lift", json=dict(document, name_fr=None), headers=ADMIN)
    assert cleared.status_code == 200 and cleared.json()["name_fr"] is None
    assert client.delete("/api/exercises/knee_lift", headers=ADMIN).status_code == 204


def test_a_description_keeps_its_line_breaks(client):
    document = dict(NEW_EXERCISE, id="line_breaks", description="Feet apart.\n\tBack straight.")
    response = client.post("/api/exercises", json=document, headers=ADMIN)
    assert response.status_code == 201, response.text
    assert response.json()["description"] == document["description"]
    assert client.delete("/api/exercises/line_breaks", headers=ADMIN).status_code == 204


def test_a_new_exercise_is_not_playable_until_its_clip_is_uploaded(client, clip_file):
    created = client.post("/api/exercises", json=NEW_EXERCISE, headers=ADMIN)
    assert created.status_code == 201 and created.json()["playable"] is False
    assert client.post("/api/exercises", json=NEW_EXERCISE, headers=ADMIN).status_code == 409
    plan = {"items": [{"exercise_id": "skater_jump", "work_seconds": 5}]}
    assert client.post("/api/plans", json=plan).status_code == 422

    upload = client.put(
        "/api/exercises/skater_jump/clip",
        content=clip_file.read_bytes(),
        headers={**ADMIN, "Content-Type": "video/mp4"},
    )
    assert upload.status_code == 200, upload.text
    clip = upload.json()["clip"]
    assert (clip["width"], clip["height"], clip["fps"], clip["frames"]) == (640, 360, "30", 60)
    assert client.post("/api/plans", json=plan).status_code == 201


def test_replacing_a_clip_changes_its_version_and_every_segment_etag(client, clip_file, tmp_path):
    plan = {"items": [{"exercise_id": "push_up", "work_seconds": 5}]}
    created = client.post("/api/plans", json=plan).json()
    segment_url = created["media_playlist_urls"]["720p"].replace("index.m3u8", "1.ts")
    before = client.get(segment_url)
    assert before.status_code == 200
    version_before = client.get("/api/exercises/push_up").json()["clip"]["version"]

    upload = client.put(
        "/api/exercises/push_up/clip", content=clip_file.read_bytes(), headers={**ADMIN, "Content-Type": "video/mp4"}
    )
    assert upload.status_code == 200, upload.text
    assert upload.json()["clip"]["version"] != version_before
    after = client.get(segment_url)
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"] and after.content != before.content


def test_a_text_file_named_mov_is_refused_before_anything_is_stored(client):
    response = client.put(
        "/api/exercises/squat/clip",
        content=b"not a video at all\n" * 100,
        headers={**ADMIN, "Content-Type": "video/quicktime"},
    )
    assert response.status_code == 415
    assert "refused" in response.json()["detail"]
    assert client.get("/api/exercises/squat").json()["clip"]["codec"] == "h264"


def test_a_clip_over_the_upload_limit_is_a_413(client):
    response = client.put(
        "/api/exercises/squat/clip", content=b"\0" * (3 << 20), headers={**ADMIN, "Content-Type": "video/mp4"}
    )
    assert response.status_code == 413


def test_an_upload_that_is_not_a_video_type_is_a_415(client):
    response = client.put("/api/exercises/squat/clip", content=b"{}", headers={**ADMIN, "Content-Type": "text/plain"})
    assert response.status_code == 415


def test_the_clip_url_downloads_the_original_and_a_forged_one_is_refused(client):
    link = client.get("/api/exercises/plank/clip-url").json()
    assert link["expires_in"] == 3600
    download = client.get(link["url"])
    assert download.status_code == 200 and download.content[4:8] == b"ftyp"
    forged = link["url"].rsplit("signature=", 1)[0] + "signature=" + "0" * 64
    assert client.get(forged).status_code == 403
    unsigned = link["url"].split("?", 1)[0]
    assert client.get(unsigned).status_code == 403


def test_deleting_an_exercise_that_plans_use_is_a_409_and_an_unused_one_goes(client):
    client.post("/api/plans", json={"items": [{"exercise_id": "lunge", "work_seconds": 5}]})
    in_use = client.delete("/api/exercises/lunge", headers=ADMIN)
    assert in_use.status_code == 409
    spare = dict(NEW_EXERCISE, id="spare_move", name="Spare move")
    assert client.put("/api/exercises/spare_move", json=spare, headers=ADMIN).status_code == 201
    assert client.delete("/api/exercises/spare_move", headers=ADMIN).status_code == 204
    assert client.get("/api/exercises/spare_move").status_code == 404
    assert client.delete("/api/exercises/spare_move", headers=ADMIN).status_code == 404


def test_categories_count_their_exercises(client):
    categories = {c["id"]: c["exercises"] for c in client.get("/api/categories").json()["categories"]}
    assert categories["legs"] >= 2 and categories["core"] >= 1
