"""Signed stream URLs: tokens, their checks, and the playlist rewrite that carries them."""

from __future__ import annotations

import m3u8
import pytest

from server.errors import UrlTokenExpired, UrlTokenInvalid, UrlTokenMissing
from server.middleware.signing import (
    UrlSigner,
    query_token,
    signed_playlist,
    signed_storyboard_track,
    with_token,
)

PLAN_A = "0123456789abcdef0123"
PLAN_B = "fedcba9876543210fedc"
TTL = 3600


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def signer(clock: Clock) -> UrlSigner:
    return UrlSigner(b"secret key", TTL, clock)


def test_a_fresh_token_opens_its_plan(signer):
    signer.verify(PLAN_A, signer.token(PLAN_A))


def test_a_token_is_compact_and_url_safe(signer):
    token = signer.token(PLAN_A)
    assert len(token) <= 40
    assert all(c.isalnum() or c in "-_." for c in token)


def test_a_token_for_one_plan_does_not_open_another(signer):
    with pytest.raises(UrlTokenInvalid):
        signer.verify(PLAN_B, signer.token(PLAN_A))


def test_a_token_made_with_another_key_is_invalid(signer, clock):
    other = UrlSigner(b"another key", TTL, clock)
    with pytest.raises(UrlTokenInvalid):
        signer.verify(PLAN_A, other.token(PLAN_A))


def test_a_token_expires_after_its_lifetime(signer, clock):
    token = signer.token(PLAN_A)
    clock.now += TTL - 1
    signer.verify(PLAN_A, token)
    clock.now += 1
    with pytest.raises(UrlTokenExpired):
        signer.verify(PLAN_A, token)


def test_moving_the_expiry_forward_breaks_the_mac(signer):
    expiry, mac = signer.token(PLAN_A).split(".")
    with pytest.raises(UrlTokenInvalid):
        signer.verify(PLAN_A, f"{int(expiry) + 3600}.{mac}")


@pytest.mark.parametrize("token", [None, ""])
def test_no_token_is_missing(signer, token):
    with pytest.raises(UrlTokenMissing):
        signer.verify(PLAN_A, token)


@pytest.mark.parametrize("token", ["x", "123", "abc.def", "1.%%%", "1." + "A" * 100, "1.A", "99999999999999.AAAA"])
def test_malformed_tokens_are_invalid(signer, token):
    with pytest.raises(UrlTokenInvalid):
        signer.verify(PLAN_A, token)


def test_with_token_keeps_existing_query_and_fragment():
    assert with_token("a.ts", "T") == "a.ts?token=T"
    assert with_token("a.ts?x=1", "T") == "a.ts?x=1&token=T"
    assert with_token("s.jpg#xywh=0,0,1,1", "T") == "s.jpg?token=T#xywh=0,0,1,1"


def test_query_token_reads_the_percent_decoded_value():
    assert query_token(b"a=1&token=12.ab%2D") == "12.ab-"
    assert query_token(b"a=1") is None


MULTIVARIANT = (
    "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n"
    '#EXT-X-STREAM-INF:BANDWIDTH=1000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=640x360\n360p/index.m3u8\n'
    '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=100,CODECS="avc1.64001f",RESOLUTION=640x360,URI="360p/iframes.m3u8"\n'
)
MEDIA = (
    "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n"
    '#EXT-X-MAP:URI="init.mp4"\n#EXTINF:1.000000,\n0.m4s\n#EXTINF:4.000000,\n1.m4s\n#EXT-X-ENDLIST\n'
)


def test_every_uri_of_a_multivariant_playlist_carries_the_token():
    parsed = m3u8.loads(signed_playlist(MULTIVARIANT, "12.abc"))
    assert [p.uri for p in parsed.playlists] == ["360p/index.m3u8?token=12.abc"]
    assert [p.uri for p in parsed.iframe_playlists] == ["360p/iframes.m3u8?token=12.abc"]


def test_every_uri_of_a_media_playlist_carries_the_token():
    text = signed_playlist(MEDIA, "12.abc")
    parsed = m3u8.loads(text)
    assert [s.uri for s in parsed.segments] == ["0.m4s?token=12.abc", "1.m4s?token=12.abc"]
    assert parsed.segment_map[0].uri == "init.mp4?token=12.abc"
    assert text.count("token=") == 3


def test_signing_a_playlist_gives_the_same_bytes_every_time():
    assert signed_playlist(MEDIA, "12.abc") == signed_playlist(MEDIA, "12.abc")


def test_the_storyboard_sprite_url_carries_the_token_before_its_fragment():
    track = "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nstoryboard.jpg#xywh=0,0,160,90\n\n"
    signed = signed_storyboard_track(track, "12.abc")
    assert "storyboard.jpg?token=12.abc#xywh=0,0,160,90" in signed
    assert signed.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:05.000\n")
