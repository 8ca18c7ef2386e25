"""Signed stream URLs, rate limits and the CORS allow-list, through the HTTP API (Starlette's test client)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import m3u8
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config.settings import Settings
from server.middleware.signing import UrlSigner

KEY = "test url signing key"
PLAN_A = {"items": [{"exercise_id": "squat", "work_seconds": 6}]}
PLAN_B = {"items": [{"exercise_id": "plank", "work_seconds": 6}]}


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


@pytest.fixture(scope="module")
def signed_client(new_data_dir):
    settings = Settings(data_dir=new_data_dir(), warm_clips=False, url_signing_key=KEY, url_ttl_seconds=600)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def plan_a(signed_client) -> dict:
    return signed_client.post("/api/plans", json=PLAN_A).json()


@pytest.fixture(scope="module")
def plan_b(signed_client) -> dict:
    return signed_client.post("/api/plans", json=PLAN_B).json()


def test_the_plan_document_hands_out_playlist_urls_with_one_fresh_token(plan_a):
    urls = [plan_a["playlist_url"], plan_a["fmp4_playlist_url"], *plan_a["media_playlist_urls"].values()]
    tokens = {token_of(url) for url in urls}
    assert len(tokens) == 1
    expiry = int(tokens.pop().split(".")[0])
    assert 0 < expiry - time.time() <= 600


def test_every_uri_in_a_signed_multivariant_playlist_carries_the_token(signed_client, plan_a):
    token = token_of(plan_a["playlist_url"])
    response = signed_client.get(path_of(plan_a["playlist_url"]))
    assert response.status_code == 200
    parsed = m3u8.loads(response.text)
    uris = [p.uri for p in parsed.playlists] + [p.uri for p in parsed.iframe_playlists]
    assert uris and all(uri.endswith(f"?token={token}") for uri in uris)


def test_a_signed_playlist_is_the_same_bytes_on_every_fetch(signed_client, plan_a):
    first = signed_client.get(path_of(plan_a["playlist_url"]), headers={"accept-encoding": "identity"})
    second = signed_client.get(path_of(plan_a["playlist_url"]), headers={"accept-encoding": "identity"})
    assert first.content == second.content and first.headers["etag"] == second.headers["etag"]


def test_a_signed_fmp4_media_playlist_carries_the_token_to_its_map_and_segments(signed_client, plan_a):
    token = token_of(plan_a["fmp4_playlist_url"])
    base = f"/hls/{plan_a['id']}/fmp4/360p/index.m3u8?token={token}"
    parsed = m3u8.loads(signed_client.get(base).text)
    assert parsed.segment_map[0].uri == f"init.mp4?token={token}"
    assert all(segment.uri.endswith(f".m4s?token={token}") for segment in parsed.segments)


def test_a_segment_opens_with_the_token_from_its_playlist(signed_client, plan_a):
    token = token_of(plan_a["playlist_url"])
    playlist = m3u8.loads(signed_client.get(f"/hls/{plan_a['id']}/360p/index.m3u8?token={token}").text)
    response = signed_client.get(f"/hls/{plan_a['id']}/360p/{playlist.segments[0].uri}")
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp2t"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "url_token_missing"),
        ("?token=", "url_token_missing"),
        ("?token=garbage", "url_token_invalid"),
        ("?token=1999999999.AAAAAAAAAAAAAAAAAAAAAA", "url_token_invalid"),
    ],
)
def test_a_segment_without_a_valid_token_is_a_403_naming_why(signed_client, plan_a, query, code):
    response = signed_client.get(f"/hls/{plan_a['id']}/360p/0.ts{query}")
    assert response.status_code == 403
    assert response.json()["error"] == code


def test_an_expired_token_is_a_403_expired(signed_client, plan_a):
    past = UrlSigner(KEY.encode(), 600, clock=lambda: time.time() - 3600).token(plan_a["id"])
    response = signed_client.get(f"/hls/{plan_a['id']}/360p/0.ts?token={past}")
    assert response.status_code == 403 and response.json()["error"] == "url_token_expired"


def test_a_token_for_plan_a_does_not_open_plan_b(signed_client, plan_a, plan_b):
    token = token_of(plan_a["playlist_url"])
    for path in ("master.m3u8", "360p/index.m3u8", "360p/0.ts", "poster.jpg"):
        response = signed_client.get(f"/hls/{plan_b['id']}/{path}?token={token}")
        assert response.status_code == 403 and response.json()["error"] == "url_token_invalid", path


def test_pictures_need_the_token_and_the_storyboard_track_passes_it_on(signed_client, plan_a):
    token = token_of(plan_a["playlist_url"])
    assert signed_client.get(f"/hls/{plan_a['id']}/storyboard.vtt").status_code == 403
    track = signed_client.get(f"/hls/{plan_a['id']}/storyboard.vtt?token={token}")
    assert track.status_code == 200
    assert f"storyboard.jpg?token={token}#xywh=" in track.text
    assert signed_client.get(f"/hls/{plan_a['id']}/poster.jpg?width=64&token={token}").status_code == 200


def test_the_api_and_other_routes_need_no_token(signed_client, plan_a):
    assert signed_client.get(f"/api/plans/{plan_a['id']}").status_code == 200
    assert signed_client.get("/health").status_code == 200


def test_unsigned_servers_hand_out_plain_urls(new_data_dir):
    with TestClient(create_app(Settings(data_dir=new_data_dir(), warm_clips=False))) as client:
        document = client.post("/api/plans", json=PLAN_A).json()
        assert "token" not in document["playlist_url"]
        assert "token" not in client.get(path_of(document["playlist_url"])).text


def test_plan_creation_past_the_burst_is_a_429_with_retry_after(new_data_dir):
    settings = Settings(data_dir=new_data_dir(), warm_clips=False, rate_limit_per_minute=6, rate_limit_burst=2)
    with TestClient(create_app(settings)) as client:
        statuses = [client.post("/api/plans", json=PLAN_A).status_code for _ in range(2)]
        refused = client.post("/api/plans", json=PLAN_A)
        generated = client.post("/api/generate-training", json={"duration_minutes": 10})
    assert statuses == [201, 200]
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 10
    assert generated.status_code == 429  # the same bucket covers generation


def test_a_rate_limit_of_zero_switches_limiting_off(new_data_dir):
    settings = Settings(data_dir=new_data_dir(), warm_clips=False, rate_limit_per_minute=0, rate_limit_burst=1)
    with TestClient(create_app(settings)) as client:
        assert all(client.post("/api/plans", json=PLAN_A).status_code in (200, 201) for _ in range(5))


@pytest.fixture(scope="module")
def restricted(new_data_dir):
    settings = Settings(data_dir=new_data_dir(), warm_clips=False, cors_origins=("https://coach.example",))
    with TestClient(create_app(settings)) as client:
        yield client


def preflight(client: TestClient, origin: str):
    return client.options(
        "/api/plans",
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )


def test_a_listed_origin_passes_the_cors_preflight(restricted):
    response = preflight(restricted, "https://coach.example")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://coach.example"


def test_an_unlisted_origin_fails_the_cors_preflight(restricted):
    response = preflight(restricted, "https://evil.example")
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_an_unlisted_origin_gets_no_cors_header_on_a_simple_request(restricted):
    listed = restricted.get("/api/music", headers={"origin": "https://coach.example"})
    unlisted = restricted.get("/api/music", headers={"origin": "https://evil.example"})
    assert listed.headers["access-control-allow-origin"] == "https://coach.example"
    assert "access-control-allow-origin" not in unlisted.headers
