import hashlib
from dataclasses import replace
from fractions import Fraction

import pytest

from assets.catalogue import Exercise
from playlists.plan import Plan
from playlists.presentation import build_presentation
from playlists.renditions import DEFAULT_RENDITIONS
from segmenter.spec import (
    RENDERER_VERSION,
    ClipRef,
    SegmentNotFound,
    SpecBuilder,
    build_segment_spec,
    clip_ref_of,
    spec_key,
)

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


def presentation_in(language: str):
    document = {"items": [{"exercise_id": "squat", "work_seconds": 8}], "language": language}
    return build_presentation(Plan.model_validate(document), DEFAULT_RENDITIONS)


def test_the_same_plan_in_french_and_english_never_shares_a_key():
    english, french = presentation_in("en"), presentation_in("fr")
    for index in range(len(english.segments)):
        spec_en = build_segment_spec(english, DEFAULT_RENDITIONS[0], index, {"squat": CLIP})
        spec_fr = build_segment_spec(french, DEFAULT_RENDITIONS[0], index, {"squat": CLIP})  # "Squat" in both
        assert (spec_en.language, spec_fr.language) == ("en", "fr")
        assert spec_key(spec_en) != spec_key(spec_fr)


def test_an_english_key_is_computed_exactly_as_before_plans_had_a_language():
    """English segments keep the keys they are cached under (locally and in the shared store)."""
    spec = build_segment_spec(PRESENTATION, DEFAULT_RENDITIONS[0], 1, {"squat": CLIP})
    assert "language" not in repr(spec)
    assert spec_key(spec) == hashlib.sha256(f"{RENDERER_VERSION}|{spec!r}".encode()).hexdigest()
    assert spec_key(spec) == key(CLIP)  # a plan that says "en" is the plan that says nothing


def test_clips_are_named_in_the_plans_language_falling_back_to_english(tmp_path):
    clip_file = tmp_path / "push_up.mp4"
    clip_file.write_bytes(b"not decoded here")
    fields = {
        "category": "upper_body",
        "difficulty": "beginner",
        "jump": False,
        "clip_path": clip_file,
        "loop_seconds": 2.0,
        "fps": Fraction(30),
        "frames": 60,
        "width": 1280,
        "height": 720,
        "alpha": False,
        "codec": "h264",
    }
    translated = Exercise(id="push_up", name="Push-up", name_fr="Pompe", **fields)
    untranslated = Exercise(id="push_up", name="Push-up", **fields)
    assert clip_ref_of(translated).name == "Push-up"
    assert clip_ref_of(translated, "fr").name == "Pompe"
    assert clip_ref_of(untranslated, "fr").name == "Push-up"
    assert clip_ref_of(translated, "fr").version == clip_ref_of(translated).version  # the same decoded frames
