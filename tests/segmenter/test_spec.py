from dataclasses import replace
from fractions import Fraction

import pytest

from playlists.plan import Plan
from playlists.presentation import build_presentation
from playlists.renditions import DEFAULT_RENDITIONS
from segmenter.spec import ClipRef, SegmentNotFound, SpecBuilder, build_segment_spec, spec_key

CLIP = ClipRef("squat", "Squat", "/node-a/exercises/squat.mp4", Fraction(30), 60, "v1")
PRESENTATION = build_presentation(
    Plan.model_validate({"items": [{"exercise_id": "squat", "work_seconds": 8}]}), DEFAULT_RENDITIONS
)


def key(clip: ClipRef, index: int = 1) -> str:
    return spec_key(build_segment_spec(PRESENTATION, DEFAULT_RENDITIONS[0], index, {"squat": clip}))


def test_the_key_is_the_same_on_every_node_whatever_the_local_path():
    assert key(CLIP) == key(replace(CLIP, path="/node-b/data/squat.mp4"))


def test_the_key_changes_with_the_clip_content_the_rendition_and_the_segment():
    assert key(CLIP) != key(replace(CLIP, version="v2"))
    assert key(CLIP) != key(CLIP, index=2)
    other = replace(DEFAULT_RENDITIONS[0], video_bitrate=2_500_000)
    spec = build_segment_spec(PRESENTATION, other, 1, {"squat": CLIP})
    assert spec_key(spec) != key(CLIP)


def test_a_segment_index_outside_the_presentation_is_refused():
    with pytest.raises(SegmentNotFound):
        key(CLIP, index=len(PRESENTATION.segments))


def test_a_spec_builder_gives_the_same_specs_and_keys_as_slicing_each_segment_alone():
    builder = SpecBuilder(PRESENTATION, DEFAULT_RENDITIONS[0], {"squat": CLIP})
    for index in range(len(PRESENTATION.segments)):
        alone = build_segment_spec(PRESENTATION, DEFAULT_RENDITIONS[0], index, {"squat": CLIP})
        assert builder.spec(index) == alone
        assert builder.key(index) == spec_key(alone)
