"""The ABR presentation over HTTP: every rendition listed, I-frame playlists for trick play."""

from __future__ import annotations

import io
from fractions import Fraction

import av
import m3u8
import pytest
from starlette.testclient import TestClient

from playlists.renditions import DEFAULT_RENDITIONS
from server.app import create_app
from server.config.settings import Settings

PLAN = {"items": [{"exercise_id": "squat", "work_seconds": 9, "rest_seconds": 3}], "rounds": 2}


@pytest.fixture(scope="module")
def created(new_data_dir):
    with TestClient(create_app(Settings(data_dir=new_data_dir(), warm_clips=False))) as client:
        yield client, client.post("/api/plans", json=PLAN).json()


def test_the_multivariant_playlist_lists_every_rendition_and_its_iframe_stream(created):
    client, plan = created
    playlist = m3u8.loads(client.get(plan["playlist_url"]).text)
    assert [p.uri for p in playlist.playlists] == [f"{r.name}/index.m3u8" for r in DEFAULT_RENDITIONS]
    assert [p.uri for p in playlist.iframe_playlists] == [f"{r.name}/iframes.m3u8" for r in DEFAULT_RENDITIONS]
    for variant, iframes in zip(playlist.playlists, playlist.iframe_playlists, strict=True):
        assert iframes.iframe_stream_info.codecs == variant.stream_info.codecs.split(",")[0]
        assert iframes.iframe_stream_info.resolution == variant.stream_info.resolution


@pytest.mark.parametrize("rendition", ["360p", "1080p"])
def test_iframe_playlist_entries_decode_to_single_keyframes_at_the_stated_times(created, rendition):
    client, plan = created
    base = plan["playlist_url"].rsplit("/", 1)[0] + f"/{rendition}/"
    text = client.get(base + "iframes.m3u8").text
    assert "#EXT-X-I-FRAMES-ONLY" in text and "#EXT-X-VERSION:4" in text
    playlist = m3u8.loads(text)
    media = m3u8.loads(client.get(base + "index.m3u8").text)
    assert [s.duration for s in playlist.segments] == [s.duration for s in media.segments]
    stated = Fraction(0)
    for entry in playlist.segments[:4]:
        data = client.get(base + entry.uri).content
        with av.open(io.BytesIO(data), format="mpegts") as container:
            frames = list(container.decode(video=0))
        assert len(frames) == 1 and frames[0].key_frame
        assert Fraction(frames[0].pts, 90_000) == stated
        assert (frames[0].width, frames[0].height) == (
            next(r.width for r in DEFAULT_RENDITIONS if r.name == rendition),
            next(r.height for r in DEFAULT_RENDITIONS if r.name == rendition),
        )
        stated += Fraction(entry.duration).limit_denominator(30)


def test_an_iframe_of_a_segment_that_does_not_exist_is_a_404(created):
    client, plan = created
    base = plan["playlist_url"].rsplit("/", 1)[0]
    assert client.get(f"{base}/720p/iframe/999.ts").status_code == 404
    assert client.get(f"{base}/999p/iframes.m3u8").status_code == 404


def test_the_plan_names_both_multivariant_playlists_and_fmp4_uses_one_init_per_rendition(created):
    client, plan = created
    assert plan["fmp4_playlist_url"].endswith(f"/hls/{plan['id']}/fmp4/master.m3u8")
    master = m3u8.loads(client.get(plan["fmp4_playlist_url"]).text)
    assert [p.uri for p in master.playlists] == [f"{r.name}/index.m3u8" for r in DEFAULT_RENDITIONS]
    assert [p.uri for p in master.iframe_playlists] == [f"{r.name}/iframes.m3u8" for r in DEFAULT_RENDITIONS]
    base = plan["fmp4_playlist_url"].rsplit("/", 1)[0] + "/720p/"
    text = client.get(base + "index.m3u8").text
    assert "#EXT-X-VERSION:6" in text and '#EXT-X-MAP:URI="init.mp4"' in text
    media = m3u8.loads(text)
    assert all(s.uri.endswith(".m4s") for s in media.segments)
    ts_media = m3u8.loads(client.get(plan["media_playlist_urls"]["720p"]).text)
    assert [s.duration for s in media.segments] == [s.duration for s in ts_media.segments]
    init = client.get(base + "init.mp4")
    assert init.headers["content-type"] == "video/mp4" and init.content[4:8] == b"ftyp"
    assert client.get(base + "init.mp4").content == init.content
    segment = client.get(base + media.segments[1].uri)
    assert segment.status_code == 200 and segment.headers["content-type"] == "video/mp4"
    assert segment.content[4:8] == b"styp"
    with av.open(io.BytesIO(init.content + segment.content), format="mp4") as container:
        frames = list(container.decode(video=0))
    assert len(frames) == round(media.segments[1].duration * 30) and frames[0].key_frame


def test_the_fmp4_iframe_playlist_decodes_as_keyframes_after_its_video_only_init(created):
    client, plan = created
    base = plan["fmp4_playlist_url"].rsplit("/", 1)[0] + "/360p/"
    text = client.get(base + "iframes.m3u8").text
    assert "#EXT-X-I-FRAMES-ONLY" in text and "#EXT-X-VERSION:5" in text
    playlist = m3u8.loads(text)
    assert [m.uri for m in playlist.segment_map] == ["iframe/init.mp4"]
    init = client.get(base + "iframe/init.mp4")
    assert init.headers["content-type"] == "video/mp4" and init.content[4:8] == b"ftyp"
    stated = Fraction(0)
    for entry in playlist.segments[:3]:
        assert entry.uri.endswith(".m4s")
        response = client.get(base + entry.uri)
        assert response.headers["content-type"] == "video/mp4" and response.content[4:8] == b"styp"
        with av.open(io.BytesIO(init.content + response.content), format="mp4") as container:
            assert [s.type for s in container.streams] == ["video"]
            frames = list(container.decode(video=0))
        assert len(frames) == 1 and frames[0].key_frame and (frames[0].width, frames[0].height) == (640, 360)
        assert Fraction(frames[0].pts, 90_000) == stated
        stated += Fraction(entry.duration).limit_denominator(30)


def test_the_ts_and_fmp4_keyframes_of_a_segment_are_different_resources(created):
    client, plan = created
    ts = client.get(plan["playlist_url"].rsplit("/", 1)[0] + "/720p/iframe/1.ts")
    fmp4 = client.get(plan["fmp4_playlist_url"].rsplit("/", 1)[0] + "/720p/iframe/1.m4s")
    assert (ts.headers["content-type"], fmp4.headers["content-type"]) == ("video/mp2t", "video/mp4")
    assert ts.content[0] == 0x47 and fmp4.content[4:8] == b"styp"
    assert ts.headers["etag"] != fmp4.headers["etag"]
    base = plan["fmp4_playlist_url"].rsplit("/", 1)[0]
    assert client.get(f"{base}/720p/iframe/999.m4s").status_code == 404
    assert client.get(f"{base}/999p/iframe/init.mp4").status_code == 404
