import math

import m3u8

from playlists.plan import Plan
from playlists.presentation import build_presentation
from playlists.renditions import CELLULAR_BASELINE, CELLULAR_BASELINE_LIMIT, DEFAULT_RENDITIONS, START_RENDITION

PLAN = Plan.model_validate(
    {
        "items": [
            {"exercise_id": "squat", "work_seconds": 37, "rest_seconds": 13},
            {"exercise_id": "plank", "work_seconds": 20, "rest_seconds": 10},
        ],
        "rounds": 2,
        "rest_between_rounds_seconds": 30,
    }
)
CODECS = {
    "720p": "avc1.42c01f,mp4a.40.2",
    "234p": "avc1.64001e,mp4a.40.2",
    "360p": "avc1.42c01e,mp4a.40.2",
    "540p": "avc1.42c01f,mp4a.40.2",
    "1080p": "avc1.42c028,mp4a.40.2",
}


def test_media_playlist_is_a_complete_vod_playlist():
    text = build_presentation(PLAN, DEFAULT_RENDITIONS).media_playlist().render()
    playlist = m3u8.loads(text)
    assert playlist.playlist_type == "vod"
    assert playlist.is_endlist
    assert playlist.version == 3
    assert playlist.media_sequence == 0
    assert text.startswith("#EXTM3U\n") and text.endswith("#EXT-X-ENDLIST\n")


def test_extinf_values_are_the_exact_segment_durations_and_sum_to_the_plan():
    presentation = build_presentation(PLAN, DEFAULT_RENDITIONS)
    playlist = m3u8.loads(presentation.media_playlist().render())
    assert len(playlist.segments) == len(presentation.segments)
    running = 0.0
    for entry, segment in zip(playlist.segments, presentation.segments):
        running += entry.duration
        assert abs(entry.duration - float(segment.duration)) < 1e-6
        assert abs(running - float(segment.start_time + segment.duration)) < 1 / 30 / 2
        assert entry.uri == f"{segment.index}.ts"
    assert abs(running - PLAN.total_seconds()) < 1e-4


def test_target_duration_bounds_every_extinf_rounded_half_up():
    playlist = m3u8.loads(build_presentation(PLAN, DEFAULT_RENDITIONS).media_playlist().render())
    assert all(math.floor(s.duration + 0.5) <= playlist.target_duration for s in playlist.segments)


def test_playlists_are_byte_identical_when_built_again():
    first = build_presentation(PLAN, DEFAULT_RENDITIONS)
    second = build_presentation(Plan.model_validate(PLAN.model_dump()), DEFAULT_RENDITIONS)
    assert first.media_playlist().render() == second.media_playlist().render()
    assert first.multivariant_playlist(CODECS).render() == second.multivariant_playlist(CODECS).render()


def test_multivariant_playlist_declares_every_attribute_players_need():
    presentation = build_presentation(PLAN, DEFAULT_RENDITIONS)
    text = presentation.multivariant_playlist(CODECS).render()
    assert "#EXT-X-INDEPENDENT-SEGMENTS\n" in text
    playlist = m3u8.loads(text)
    assert playlist.is_variant
    variants = playlist.playlists
    assert [v.uri for v in variants] == [
        "720p/index.m3u8",
        "234p/index.m3u8",
        "360p/index.m3u8",
        "540p/index.m3u8",
        "1080p/index.m3u8",
    ]
    assert text.count("FRAME-RATE=30.000") == len(DEFAULT_RENDITIONS)
    for variant, rendition in zip(variants, DEFAULT_RENDITIONS, strict=True):
        info = variant.stream_info
        assert info.codecs == CODECS[rendition.name]
        assert info.resolution == (rendition.width, rendition.height)
        declared = presentation.declared_bandwidth(rendition)
        assert (info.bandwidth, info.average_bandwidth) == (declared.peak, declared.average)
        assert info.average_bandwidth <= info.bandwidth


def test_each_container_declares_its_own_bandwidth():
    presentation = build_presentation(PLAN, DEFAULT_RENDITIONS)
    for container in ("ts", "fmp4"):
        variants = m3u8.loads(presentation.multivariant_playlist(CODECS, container).render()).playlists
        expected = [presentation.declared_bandwidth(r, container).peak for r in DEFAULT_RENDITIONS]
        assert [v.stream_info.bandwidth for v in variants] == expected
    ts, fmp4 = (presentation.declared_bandwidth(DEFAULT_RENDITIONS[0], c).peak for c in ("ts", "fmp4"))
    assert fmp4 < ts


def test_the_ladder_climbs_in_size_and_rate_and_starts_at_720p():
    first = DEFAULT_RENDITIONS[0]
    assert first.name == START_RENDITION == "720p"
    ordered = sorted(DEFAULT_RENDITIONS, key=lambda r: r.height)
    assert [r.name for r in ordered] == ["234p", "360p", "540p", "720p", "1080p"]
    presentation = build_presentation(PLAN, DEFAULT_RENDITIONS)
    rates = [presentation.declared_bandwidth(r).peak for r in ordered]
    assert rates == sorted(rates) and len(set(rates)) == len(DEFAULT_RENDITIONS)
    for rendition in ordered:
        assert rendition.width * 9 == rendition.height * 16 and rendition.height % 2 == 0


def test_the_cellular_baseline_declares_at_most_192_kbits_in_both_containers_with_or_without_music():
    """App Store rule 9.4: a variant of at most 192 kbit/s, whatever the plan, listed after the start one."""
    one_second_items = {"items": [{"exercise_id": "squat", "work_seconds": 1}] * 12}
    for document in (
        PLAN.model_dump(),
        {**PLAN.model_dump(), "music": "groove"},
        one_second_items,
        {**one_second_items, "music": "groove", "segment_seconds": 2},
    ):
        presentation = build_presentation(Plan.model_validate(document), DEFAULT_RENDITIONS)
        for container in ("ts", "fmp4"):
            variants = m3u8.loads(presentation.multivariant_playlist(CODECS, container).render()).playlists
            assert variants[0].uri == f"{START_RENDITION}/index.m3u8"
            baseline = next(v for v in variants if v.uri == f"{CELLULAR_BASELINE.name}/index.m3u8")
            assert baseline.stream_info.bandwidth <= CELLULAR_BASELINE_LIMIT
            assert min(v.stream_info.bandwidth for v in variants) == baseline.stream_info.bandwidth


def test_each_container_lists_iframe_playlists_of_its_own_beside_its_media_playlists():
    presentation = build_presentation(PLAN, DEFAULT_RENDITIONS)
    for container in ("ts", "fmp4"):
        streams = m3u8.loads(presentation.multivariant_playlist(CODECS, container).render()).iframe_playlists
        assert [s.uri for s in streams] == [f"{r.name}/iframes.m3u8" for r in DEFAULT_RENDITIONS]


def test_the_fmp4_iframe_playlist_names_its_init_and_declares_version_5():
    presentation = build_presentation(PLAN, DEFAULT_RENDITIONS)
    text = presentation.iframe_playlist("fmp4").render()
    playlist = m3u8.loads(text)
    assert playlist.version == 5 and playlist.is_i_frames_only and playlist.is_endlist
    assert [m.uri for m in playlist.segment_map] == ["iframe/init.mp4"]
    assert [s.uri for s in playlist.segments] == [f"iframe/{s.index}.m4s" for s in presentation.segments]
    ts = m3u8.loads(presentation.iframe_playlist().render())
    assert ts.version == 4 and not ts.segment_map
    assert [s.uri for s in ts.segments] == [f"iframe/{s.index}.ts" for s in presentation.segments]
    assert [s.duration for s in ts.segments] == [s.duration for s in playlist.segments]


def test_fmp4_iframe_streams_declare_less_than_ts_ones_by_their_packaging_alone():
    presentation = build_presentation(PLAN, DEFAULT_RENDITIONS)
    ts, fmp4 = (
        m3u8.loads(presentation.multivariant_playlist(CODECS, c).render()).iframe_playlists for c in ("ts", "fmp4")
    )
    shortest = min(s.duration for s in presentation.segments)
    for ts_stream, fmp4_stream, rendition in zip(ts, fmp4, DEFAULT_RENDITIONS, strict=True):
        ts_rate, fmp4_rate = ts_stream.iframe_stream_info.bandwidth, fmp4_stream.iframe_stream_info.bandwidth
        assert fmp4_rate < ts_rate < fmp4_rate * 1.05
        assert fmp4_rate * shortest > rendition.video_bufsize * 0.9  # a keyframe may fill the VBV buffer
