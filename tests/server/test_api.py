"""The HTTP API through Starlette's test client (the app's lifespan runs for real)."""

from __future__ import annotations

import gzip
import threading
import time

import m3u8
import pytest
from starlette.testclient import TestClient

from assets.samples import SAMPLE_EXERCISES
from playlists.plan import INTRO_SECONDS, OUTRO_SECONDS
from playlists.renditions import DEFAULT_RENDITIONS
from segmenter.pool import Priority
from server.app import create_app
from server.config.settings import Settings

PLAN = {
    "items": [
        {"exercise_id": "squat", "work_seconds": 8, "rest_seconds": 4},
        {"exercise_id": "plank", "work_seconds": 6, "rest_seconds": 0},
    ],
    "rounds": 2,
    "rest_between_rounds_seconds": 5,
    "intensity": "high",
}
PLAN_ID = "01ec2becf9ce10f96421"
"""PLAN's id since it was first posted, before plans had a language."""


@pytest.fixture(scope="module")
def client(new_data_dir):
    with TestClient(create_app(Settings(data_dir=new_data_dir(), warm_clips=False))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def created(client):
    response = client.post("/api/plans", json=PLAN)
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_health_answers_ok_with_clip_preparation_progress(client):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    # every sample clip at every rendition; how many of them are prepared so far
    assert body["clips_total"] == len(SAMPLE_EXERCISES) * len(DEFAULT_RENDITIONS)
    assert 0 <= body["clips_prepared"] <= body["clips_total"]
    assert set(body["preparation"]) == {"pending", "prepared", "failed", "skipped"}


def test_exercises_list_the_catalogue_without_server_paths(client):
    exercises = client.get("/api/exercises").json()["exercises"]
    ids = {e["id"] for e in exercises}
    assert {"squat", "jumping_jack", "push_up", "lunge", "plank", "burpee"} <= ids
    for exercise in exercises:
        assert set(exercise) >= {"id", "name", "categories", "difficulty", "jump", "playable", "clip"}
        assert "key" not in exercise["clip"] and "/" not in str(exercise["clip"])


def test_posting_a_plan_returns_its_id_and_playlist_urls(created):
    assert len(created["id"]) == 20
    assert created["playlist_url"].endswith(f"/hls/{created['id']}/master.m3u8")
    assert created["media_playlist_urls"]["720p"].endswith(f"/hls/{created['id']}/720p/index.m3u8")
    assert created["duration_seconds"] == INTRO_SECONDS + 2 * (8 + 4 + 6) + 5 + OUTRO_SECONDS
    assert created["plan"]["intensity"] == "high"


def test_posting_the_same_plan_again_gives_the_same_id_with_200(client, created):
    again = client.post("/api/plans", json=dict(reversed(list(PLAN.items()))))
    assert again.status_code == 200
    assert again.json()["id"] == created["id"]


def test_a_stored_plan_can_be_read_back(client, created):
    response = client.get(f"/api/plans/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created


def test_plans_survive_a_server_restart(new_data_dir):
    data_dir = new_data_dir()
    with TestClient(create_app(Settings(data_dir=data_dir, warm_clips=False))) as first:
        plan_id = first.post("/api/plans", json=PLAN).json()["id"]
    with TestClient(create_app(Settings(data_dir=data_dir, warm_clips=False))) as second:
        assert second.get(f"/api/plans/{plan_id}").status_code == 200


def test_malformed_json_is_a_400_saying_so(client):
    response = client.post("/api/plans", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"


def test_invalid_plan_is_a_422_naming_the_field(client):
    bad = dict(PLAN, rounds=0, tempo=3)
    response = client.post("/api/plans", json=bad)
    assert response.status_code == 422
    locations = {tuple(f["loc"]) for f in response.json()["fields"]}
    assert ("rounds",) in locations and ("tempo",) in locations


def test_unknown_exercise_is_a_422_naming_the_item(client):
    bad = {"items": [{"exercise_id": "squat", "work_seconds": 5}, {"exercise_id": "moonwalk", "work_seconds": 5}]}
    response = client.post("/api/plans", json=bad)
    assert response.status_code == 422
    (field,) = response.json()["fields"]
    assert field["loc"] == ["items", 1, "exercise_id"] and "moonwalk" in field["msg"]


@pytest.fixture(scope="module")
def language_client(new_data_dir):
    """A server of its own: these tests post plans beyond the shared client's rate-limit burst."""
    with TestClient(create_app(Settings(data_dir=new_data_dir(), warm_clips=False))) as test_client:
        yield test_client


def test_an_unknown_language_is_a_422_naming_the_field(language_client):
    response = language_client.post("/api/plans", json=dict(PLAN, language="de"))
    assert response.status_code == 422
    assert [f["loc"] for f in response.json()["fields"]] == [["language"]]


def test_a_plan_without_a_language_is_english_and_keeps_its_id_and_document(language_client):
    left_out = language_client.post("/api/plans", json=PLAN).json()
    spelled_out = language_client.post("/api/plans", json=dict(PLAN, language="en"))
    assert spelled_out.status_code == 200 and spelled_out.json()["id"] == left_out["id"]
    assert left_out["id"] == PLAN_ID
    assert "language" not in left_out["plan"]  # the document stored before plans had a language


def test_a_french_plan_is_another_plan_with_its_own_segments(language_client):
    client = language_client
    assert client.post("/api/plans", json=PLAN).json()["id"] == PLAN_ID  # whichever test ran first here
    french = client.post("/api/plans", json=dict(PLAN, language="fr"))
    assert french.status_code == 201, french.text
    assert french.json()["plan"]["language"] == "fr" and french.json()["id"] != PLAN_ID
    assert client.get(f"/api/plans/{french.json()['id']}").json()["plan"]["language"] == "fr"
    english_segment = client.get(f"/hls/{PLAN_ID}/360p/0.ts")
    french_segment = client.get(f"/hls/{french.json()['id']}/360p/0.ts")
    assert english_segment.status_code == french_segment.status_code == 200
    assert french_segment.headers["etag"] != english_segment.headers["etag"]
    assert french_segment.content != english_segment.content  # "Préparez-vous", not "Get ready"


def test_music_tracks_are_listed_and_plans_may_name_one(client):
    tracks = client.get("/api/music").json()["music"]
    assert [t["id"] for t in tracks] == ["groove"] and tracks[0]["loop_seconds"] == 8.0
    response = client.post("/api/plans", json=dict(PLAN, music="groove"))
    assert response.status_code == 201 and response.json()["plan"]["music"] == "groove"
    segment = client.get(f"/hls/{response.json()['id']}/720p/0.ts")
    assert segment.status_code == 200 and segment.headers["content-type"] == "video/mp2t"


def test_unknown_music_is_a_422_naming_the_field(client):
    response = client.post("/api/plans", json=dict(PLAN, music="polka"))
    assert response.status_code == 422
    assert response.json()["fields"] == [
        {"loc": ["music"], "msg": "unknown music track 'polka'", "type": "unknown_music"}
    ]


def test_a_json_array_is_a_422_not_a_crash(client):
    response = client.post("/api/plans", json=[1, 2])
    assert response.status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        "/api/plans/0123456789abcdef0123",
        "/api/plans/not-a-plan-id",
        "/hls/0123456789abcdef0123/master.m3u8",
        "/hls/0123456789abcdef0123/720p/index.m3u8",
        "/hls/0123456789abcdef0123/720p/0.ts",
    ],
)
def test_unknown_plan_is_a_404_with_a_reason(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found" and response.json()["detail"]


def test_unknown_rendition_and_segment_index_are_404s(client, created):
    base = f"/hls/{created['id']}"
    assert client.get(f"{base}/4k/index.m3u8").status_code == 404
    assert client.get(f"{base}/4k/0.ts").status_code == 404
    count = created["segment_count"]
    response = client.get(f"{base}/720p/{count}.ts")
    assert response.status_code == 404 and str(count) in response.json()["detail"]


def test_playlists_have_the_hls_mime_type_and_are_identical_on_every_request(client, created):
    base = f"/hls/{created['id']}"
    for path in (f"{base}/master.m3u8", f"{base}/720p/index.m3u8"):
        first, second = client.get(path), client.get(path)
        assert first.status_code == 200
        assert first.headers["content-type"] == "application/vnd.apple.mpegurl"
        assert first.content == second.content


def test_media_playlist_lists_every_segment_of_the_plan(client, created):
    playlist = m3u8.loads(client.get(f"/hls/{created['id']}/720p/index.m3u8").text)
    assert len(playlist.segments) == created["segment_count"]
    assert abs(sum(s.duration for s in playlist.segments) - created["duration_seconds"]) < 1e-4


def test_long_playlists_are_gzipped_for_clients_that_accept_it(client):
    long_plan = {"items": [{"exercise_id": "squat", "work_seconds": 40, "rest_seconds": 20}] * 10, "rounds": 3}
    plan_id = client.post("/api/plans", json=long_plan).json()["id"]
    response = client.get(f"/hls/{plan_id}/720p/index.m3u8", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert m3u8.loads(response.text).is_endlist
    plain = client.get(f"/hls/{plan_id}/720p/index.m3u8", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert gzip.decompress(gzip.compress(plain.content)) == response.content


def test_a_gzipped_playlist_revalidates_with_its_own_etag(client):
    """What a CDN holding the gzipped playlist sends when its copy expires: a 304, not the body again."""
    long_plan = {"items": [{"exercise_id": "squat", "work_seconds": 40, "rest_seconds": 20}] * 10, "rounds": 3}
    url = f"/hls/{client.post('/api/plans', json=long_plan).json()['id']}/720p/index.m3u8"
    gzipped = client.get(url, headers={"accept-encoding": "gzip"})
    plain = client.get(url, headers={"accept-encoding": "identity"})
    assert gzipped.headers["etag"] != plain.headers["etag"]
    again = client.get(url, headers={"accept-encoding": "gzip", "if-none-match": gzipped.headers["etag"]})
    assert again.status_code == 304 and again.headers["etag"] == gzipped.headers["etag"]
    assert client.get(url, headers={"accept-encoding": "gzip", "if-none-match": plain.headers["etag"]}).status_code == 200


def test_segments_are_mpeg_ts_with_cors_for_any_origin(client, created):
    response = client.get(f"/hls/{created['id']}/720p/0.ts", headers={"origin": "https://coach.example"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp2t"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.content[0] == 0x47 and len(response.content) % 188 == 0


def test_cors_preflight_is_answered(client, created):
    response = client.options(
        "/api/plans",
        headers={
            "origin": "https://coach.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "https://coach.example")


def test_cors_origins_can_be_restricted(new_data_dir):
    settings = Settings(data_dir=new_data_dir(), warm_clips=False, cors_origins=("https://coach.example",))
    with TestClient(create_app(settings)) as restricted:
        allowed = restricted.get("/health", headers={"origin": "https://coach.example"})
        other = restricted.get("/health", headers={"origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://coach.example"
    assert "access-control-allow-origin" not in other.headers


def test_a_missing_clip_is_a_503_naming_the_exercise_not_a_broken_segment(tmp_path, sample_clips_dir):
    import shutil

    clips = tmp_path / "data" / "exercises"
    shutil.copytree(sample_clips_dir, clips)
    with TestClient(create_app(Settings(data_dir=tmp_path / "data", warm_clips=False))) as own:
        plan_id = own.post("/api/plans", json={"items": [{"exercise_id": "squat", "work_seconds": 5}]}).json()["id"]
        (clips / "squat.mp4").unlink()
        response = own.get(f"/hls/{plan_id}/720p/0.ts")
    assert response.status_code == 503
    assert response.json()["error"] == "clip_unavailable" and "squat" in response.json()["detail"]


def test_the_server_keeps_answering_while_a_segment_renders(new_data_dir, tmp_path):
    """Rendering runs in worker processes: /health must not wait for a cold segment."""
    import threading
    import time

    cold = Settings(data_dir=new_data_dir(), warm_clips=False, frame_store_dir=tmp_path / "frames")
    with TestClient(create_app(cold)) as own:
        plan_id = own.post("/api/plans", json={"items": [{"exercise_id": "plank", "work_seconds": 6}]}).json()["id"]
        finished: dict[str, float] = {}

        def fetch_segment() -> None:
            own.get(f"/hls/{plan_id}/720p/0.ts")
            finished["segment"] = time.monotonic()

        worker = threading.Thread(target=fetch_segment)
        worker.start()
        time.sleep(0.2)  # the cold render (ProRes decode + encode) is under way
        assert own.get("/health").status_code == 200
        finished["health"] = time.monotonic()
        worker.join(timeout=60)
    assert finished["health"] < finished["segment"]


def test_segments_carry_a_strong_etag_and_revalidate_with_304(client, created):
    url = f"/hls/{created['id']}/720p/0.ts"
    first = client.get(url)
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert client.get(url).headers["etag"] == etag
    revalidated = client.get(url, headers={"if-none-match": etag})
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert client.get(url, headers={"if-none-match": '"other"'}).status_code == 200
    assert "max-age" in first.headers["cache-control"]


def test_segment_byte_ranges_are_served_as_206_or_416(client, created):
    url = f"/hls/{created['id']}/720p/0.ts"
    whole = client.get(url).content
    part = client.get(url, headers={"range": "bytes=188-375"})
    assert part.status_code == 206 and part.content == whole[188:376]
    assert part.headers["content-range"] == f"bytes 188-375/{len(whole)}"
    tail = client.get(url, headers={"range": "bytes=-188"})
    assert tail.status_code == 206 and tail.content == whole[-188:]
    beyond = client.get(url, headers={"range": f"bytes={len(whole)}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(whole)}"
    several = client.get(url, headers={"range": "bytes=0-1,5-6"})
    assert several.status_code == 200 and several.content == whole


def test_head_answers_headers_without_a_body(client, created):
    url = f"/hls/{created['id']}/720p/0.ts"
    head = client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == "video/mp2t"
    assert int(head.headers["content-length"]) == len(client.get(url).content)


def test_playlists_revalidate_with_304(client, created):
    url = f"/hls/{created['id']}/720p/index.m3u8"
    etag = client.get(url).headers["etag"]
    assert client.get(url, headers={"if-none-match": etag}).status_code == 304


def test_asking_for_a_segment_renders_the_next_ones_in_the_background(new_data_dir):
    settings = Settings(data_dir=new_data_dir(), warm_clips=False, look_ahead=2)
    with TestClient(create_app(settings)) as own:
        plan = {"items": [{"exercise_id": "jumping_jack", "work_seconds": 16}]}
        plan_id = own.post("/api/plans", json=plan).json()["id"]
        service = own.app.state.service.engine
        assert own.get(f"/hls/{plan_id}/720p/1.ts").status_code == 200
        deadline = time.monotonic() + 60
        while service.segments.renders < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        while (
            service.segments.is_rendering_any() or service.pool.queued(Priority.AHEAD)
        ) and time.monotonic() < deadline:
            time.sleep(0.05)
        renders = service.segments.renders
        assert renders == 3  # segment 1, then 2 and 3 ahead of the player
        for index in (2, 3):
            assert own.get(f"/hls/{plan_id}/720p/{index}.ts").status_code == 200
        assert service.segments.renders == 3 + 2  # 2 and 3 came from the cache; 4 and 5 are now ahead


def test_overload_answers_503_with_retry_after_instead_of_queueing_forever(new_data_dir):
    settings = Settings(data_dir=new_data_dir(), warm_clips=False, render_workers=1, render_queue=1, look_ahead=0)
    with TestClient(create_app(settings)) as own:
        plan_id = own.post("/api/plans", json={"items": [{"exercise_id": "plank", "work_seconds": 30}]}).json()["id"]
        statuses: list[int] = []
        bodies: list[dict] = []

        def fetch(index: int) -> None:
            response = own.get(f"/hls/{plan_id}/720p/{index}.ts")
            statuses.append(response.status_code)
            if response.status_code == 503:
                assert response.headers["retry-after"].isdigit()
                bodies.append(response.json())

        threads = [threading.Thread(target=fetch, args=(i,)) for i in range(1, 7)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert 200 in statuses and 503 in statuses
    assert all(body["error"] == "overloaded" for body in bodies)
