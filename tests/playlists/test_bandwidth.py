"""The bandwidth model: RFC 8216's peak and average, and what moves a segment's predicted size.

Whether the predictions match rendered segments is tested where segments are rendered
(tests/segmenter/test_ladder.py) and on every interop plan (tests/interop, rule 6).
"""

from __future__ import annotations

from fractions import Fraction

from playlists.bandwidth import (
    CONTINUITY_BLOCK,
    DECLARED_MARGIN,
    TS_PACKET_BYTES,
    AudioModel,
    declared_bandwidth,
    rfc_peak_and_average,
    segment_bytes,
    sounding_aac_frames,
    ts_packet_targets,
    ts_stream_packets,
)
from playlists.cues import Cue
from playlists.media import OUTPUT_FPS, owned_aac_frames
from playlists.plan import Plan
from playlists.presentation import build_presentation
from playlists.renditions import CELLULAR_BASELINE, CELLULAR_BASELINE_LIMIT, DEFAULT_RENDITIONS, rendition_named
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


def segment_lengths_plans_can_cut() -> set[int]:
    """Frame counts of every segment `cut_segments` makes of whole-second blocks of 1-90 s (the first block
    gives the one-second startup segment) at targets from 2 to 6 s in tenths."""
    lengths = set()
    for tenths in range(20, 61):
        plan = Plan.model_validate(
            {
                "items": [{"exercise_id": "squat", "work_seconds": seconds} for seconds in range(1, 91)],
                "segment_seconds": tenths / 10,
            }
        )
        lengths.update(segment.frames for segment in build_presentation(plan, DEFAULT_RENDITIONS).segments)
    return lengths


def test_every_baseline_segment_length_fits_192_kbits_in_mpeg_ts_by_construction():
    """The baseline's TS segments are padded to exactly the predicted sizes, so rule 9.4 can be checked for
    every length a plan can cut (one second, or 1.5 s and more: blocks last whole seconds), music sounding
    in every AAC frame, at the presentation's start (music onset) and later."""
    loud = AudioModel(CELLULAR_BASELINE.audio_bitrate, music=True, sounding=())
    lengths = segment_lengths_plans_can_cut()
    assert min(lengths) == OUTPUT_FPS and min(lengths - {OUTPUT_FPS}) == 45
    for start in (0, 3000):
        for frames in sorted(lengths):
            segment = Segment(index=1, start_frame=start, frames=frames, fps=OUTPUT_FPS)
            size = segment_bytes(segment, 100_000, CELLULAR_BASELINE, loud, "ts")
            assert size * 8 / segment.duration <= CELLULAR_BASELINE_LIMIT, (start, frames, size)


def test_a_fixed_size_rendition_predicts_whole_continuity_steps_above_each_streams_packets():
    segment = Segment(index=0, start_frame=0, frames=30, fps=OUTPUT_FPS)
    loud = AudioModel(CELLULAR_BASELINE.audio_bitrate, music=True, sounding=())
    first, end = owned_aac_frames(0, 30, 100_000)
    raw = ts_stream_packets(CELLULAR_BASELINE, 30, OUTPUT_FPS, loud, first, end)
    targets = ts_packet_targets(CELLULAR_BASELINE, 30, OUTPUT_FPS, loud, first, end)
    assert all(target % CONTINUITY_BLOCK == 0 and target > packets for target, packets in zip(targets, raw))
    assert segment_bytes(segment, 100_000, CELLULAR_BASELINE, loud, "ts") == (2 + sum(targets)) * TS_PACKET_BYTES
