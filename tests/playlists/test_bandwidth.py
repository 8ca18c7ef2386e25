"""The bandwidth model: RFC 8216's peak and average, and what moves a segment's predicted size.

Whether the predictions match rendered segments is tested where segments are rendered
(tests/segmenter/test_ladder.py) and on every interop plan (tests/interop, rule 6).
"""

from __future__ import annotations

from fractions import Fraction

from playlists.bandwidth import (
    DECLARED_MARGIN,
    AudioModel,
    declared_bandwidth,
    rfc_peak_and_average,
    segment_bytes,
    sounding_aac_frames,
)
from playlists.cues import Cue
from playlists.plan import Plan
from playlists.presentation import build_presentation
from playlists.renditions import DEFAULT_RENDITIONS, rendition_named
from playlists.segments import Segment

RENDITION = rendition_named("360p")
SILENT = AudioModel(RENDITION.audio_bitrate, music=False, sounding=())
MUSIC = AudioModel(RENDITION.audio_bitrate, music=True, sounding=())


def test_peak_is_the_fastest_run_lasting_half_to_one_and_a_half_target_durations():
    durations = [Fraction(4)] * 4
    sizes = [100, 300, 100, 100]  # bytes
    peak, average = rfc_peak_and_average(durations, sizes, target=4)
    # Runs of one segment (4 s) qualify, runs of two (8 s) are too long for a 4 s target.
    assert peak == Fraction(300 * 8, 4)
    assert average == Fraction(600 * 8, 16)


def test_short_segments_join_their_neighbours_for_the_peak():
    durations = [Fraction(1), Fraction(1), Fraction(4)]
    peak, _ = rfc_peak_and_average(durations, [1000, 1000, 100], target=4)
    # The 1 s segments alone last less than half the target; together (2 s) they qualify.
    assert peak == Fraction(2000 * 8, 2)


def test_a_cue_sounds_in_every_aac_frame_it_overlaps():
    assert sounding_aac_frames([Cue(start_sample=1000, length_samples=100, frequency=880.0)]) == (0, 1)
    assert sounding_aac_frames([Cue(start_sample=1024, length_samples=1024, frequency=880.0)]) == (1,)


def test_music_weighs_more_than_a_silent_cue_track():
    segment = Segment(index=0, start_frame=0, frames=120, fps=30)
    for container in ("ts", "fmp4"):
        silent = segment_bytes(segment, 120, RENDITION, SILENT, container)
        music = segment_bytes(segment, 120, RENDITION, MUSIC, container)
        assert music - silent > RENDITION.audio_bitrate * 4 / 8 * Fraction(8, 10)


def test_mpeg_ts_costs_more_than_fmp4_and_most_in_short_segments():
    def overhead(frames: int) -> Fraction:
        segment = Segment(index=0, start_frame=0, frames=frames, fps=30)
        ts = segment_bytes(segment, frames, RENDITION, SILENT, "ts")
        return ts / segment_bytes(segment, frames, RENDITION, SILENT, "fmp4")

    assert overhead(30) > overhead(120) > 1


def test_declared_rates_sit_a_margin_above_the_prediction():
    presentation = build_presentation(
        Plan.model_validate({"items": [{"exercise_id": "squat", "work_seconds": 20}]}), DEFAULT_RENDITIONS
    )
    declared = declared_bandwidth(presentation.segments, 4, RENDITION, SILENT, "ts")
    sizes = [segment_bytes(s, presentation.timeline.total_frames, RENDITION, SILENT, "ts") for s in presentation.segments]
    peak, average = rfc_peak_and_average([s.duration for s in presentation.segments], [round(b) for b in sizes], 4)
    assert declared.peak >= peak * DECLARED_MARGIN > peak
    assert declared.average >= average * DECLARED_MARGIN
    assert declared.average <= declared.peak


def test_a_plan_with_music_declares_more_than_the_same_plan_without():
    body = {"items": [{"exercise_id": "squat", "work_seconds": 20}]}
    quiet = build_presentation(Plan.model_validate(body), DEFAULT_RENDITIONS)
    loud = build_presentation(Plan.model_validate({**body, "music": "groove"}), DEFAULT_RENDITIONS)
    assert loud.declared_bandwidth(RENDITION).average > quiet.declared_bandwidth(RENDITION).average
