"""The generated sample library: promised formats, a readable mark on every frame, alpha, seamless loops."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from assets.catalogue import CATALOGUE_FILE
from assets.figure import ANKLE_HEIGHT, FOREARM, JOINTS, POSES, SHIN, THIGH, TORSO, UPPER_ARM
from assets.framemark import cell_size, mark_box, read_frame_mark
from assets.records import DIFFICULTIES, SAMPLE_CATEGORIES, SAMPLE_FRENCH_NAMES
from assets.samples import SAMPLE_EXERCISES, generate_samples, main

# id: (name, category, difficulty, jump, width, height, fps, frames, alpha, codec, clip)
PROMISED = {
    "squat": ("Squat", "legs", "beginner", False, 1920, 1080, 30, 60, False, "h264", "squat.mp4"),
    "jumping_jack": ("Jumping Jack", "cardio", "beginner", True, 1280, 720, 30, 36, False, "h264", "jumping_jack.mp4"),
    "push_up": ("Push-up", "upper_body", "intermediate", False, 1920, 1080, 25, 60, False, "h264", "push_up.mp4"),
    "lunge": ("Lunge", "legs", "intermediate", False, 1280, 720, 25, 80, True, "prores", "lunge.mov"),
    "plank": ("Plank", "core", "beginner", False, 1920, 1080, 30, 90, True, "prores", "plank.mov"),
    "burpee": ("Burpee", "full_body", "advanced", True, 1280, 720, 60, 180, False, "h264", "burpee.mp4"),
    "mountain_climber": (
        "Mountain climber", "core", "intermediate", False, 1280, 720, 30, 36, False, "h264", "mountain_climber.mp4"
    ),
    "high_knees": ("High knees", "cardio", "intermediate", True, 960, 540, 50, 50, False, "h264", "high_knees.mp4"),
    "glute_bridge": ("Glute bridge", "legs", "beginner", False, 1280, 720, 25, 50, True, "prores", "glute_bridge.mov"),
    "crunch": ("Crunch", "core", "beginner", False, 1280, 720, 30, 45, False, "h264", "crunch.mp4"),
    "calf_raise": ("Calf raise", "legs", "beginner", False, 640, 360, 25, 40, False, "h264", "calf_raise.mp4"),
    "knee_push_up": (
        "Knee push-up", "upper_body", "beginner", False, 1280, 720, 30, 48, True, "prores", "knee_push_up.mov"
    ),
    "pike_push_up": (
        "Pike push-up", "upper_body", "advanced", False, 960, 540, 25, 50, False, "h264", "pike_push_up.mp4"
    ),
    "jump_squat": ("Jump squat", "legs", "advanced", True, 1280, 720, 60, 72, False, "h264", "jump_squat.mp4"),
    "inchworm": ("Inchworm", "full_body", "intermediate", False, 1280, 720, 30, 90, False, "h264", "inchworm.mp4"),
    "seated_knee_tuck": (
        "Seated knee tuck", "core", "advanced", False, 1280, 720, 50, 75, True, "prores", "seated_knee_tuck.mov"
    ),
}  # fmt: skip
FRENCH_NAMES = {
    "squat": "Squat",
    "jumping_jack": "Jumping jack",
    "push_up": "Pompe",
    "lunge": "Fente",
    "plank": "Gainage (planche)",
    "burpee": "Burpee",
    "mountain_climber": "Grimpeur",
    "high_knees": "Montées de genoux",
    "glute_bridge": "Pont fessier",
    "crunch": "Crunch",
    "calf_raise": "Montées sur pointes",
    "knee_push_up": "Pompe sur les genoux",
    "pike_push_up": "Pompe piquée",
    "jump_squat": "Squat sauté",
    "inchworm": "Chenille",
    "seated_knee_tuck": "Relevés de genoux assis",
}
ORIGINAL_SIX = ("squat", "jumping_jack", "push_up", "lunge", "plank", "burpee")
"""The first sample exercises: their clips are cached and referred to elsewhere, so they never change."""
MAIN_CATEGORIES = {"legs", "core", "upper_body", "full_body", "cardio"}
FRAME_RATES = {25, 30, 50, 60}
MAX_LIBRARY_FRAMES = 1100
"""Every source frame is stored prepared at four rendition sizes (about 5.6 MB a frame): the library's
frame count sizes the frame store, so growing past this is a decision, not an accident."""
MIN_COLOUR_DISTANCE = 50.0
"""Euclidean RGB distance between any two figure colours."""
ALPHA_IDS = [key for key, promised in PROMISED.items() if promised[8]]
GROUND_CONTACT = 0.01
"""A joint this close to y = 0 (figure units) touches the floor."""


@pytest.fixture(scope="session")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict]]:
    clips_dir = tmp_path_factory.mktemp("clips")
    entries = generate_samples(clips_dir)
    return clips_dir, {entry["id"]: entry for entry in entries}


def decoded_frames(path: Path) -> Iterator[av.VideoFrame]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        yield from container.decode(stream)


def alpha_plane(frame: av.VideoFrame) -> np.ndarray:
    """The alpha plane scaled to 0..255 (the ProRes decoder gives 12-bit yuva444p12le)."""
    return frame.to_ndarray(format="rgba")[..., 3]


def test_catalogue_entries_keep_their_promises(library: tuple[Path, dict[str, dict]]) -> None:
    clips_dir, entries = library
    assert set(entries) == set(PROMISED)
    for exercise_id, (name, category, difficulty, jump, width, height, fps, frames, alpha, codec, clip) in (
        PROMISED.items()
    ):
        entry = entries[exercise_id]
        assert entry == {
            "id": exercise_id,
            "name": name,
            "name_fr": FRENCH_NAMES[exercise_id],
            "category": category,
            "difficulty": difficulty,
            "jump": jump,
            "clip": clip,
            "loop_seconds": pytest.approx(frames / fps),
            "fps": f"{fps}/1",
            "frames": frames,
            "width": width,
            "height": height,
            "alpha": alpha,
            "codec": codec,
        }
        assert (clips_dir / clip).is_file()
    json.dumps(list(entries.values()))  # plain JSON types only


@pytest.mark.parametrize("exercise_id", list(PROMISED))
def test_every_frame_shows_its_own_index(library: tuple[Path, dict[str, dict]], exercise_id: str) -> None:
    clips_dir, entries = library
    entry = entries[exercise_id]
    fps = Fraction(entry["fps"])
    count = 0
    for index, frame in enumerate(decoded_frames(clips_dir / entry["clip"])):
        assert (frame.width, frame.height) == (entry["width"], entry["height"])
        assert frame.time == pytest.approx(float(index / fps))
        assert read_frame_mark(frame.to_ndarray(format="gray")) == index
        count += 1
    assert count == entry["frames"]


def test_stream_frame_count_agrees_with_decoding(library: tuple[Path, dict[str, dict]]) -> None:
    clips_dir, entries = library
    for entry in entries.values():
        with av.open(str(clips_dir / entry["clip"])) as container:
            stream = container.streams.video[0]
            assert stream.frames == entry["frames"]
            assert stream.average_rate == Fraction(entry["fps"])


@pytest.mark.parametrize("exercise_id", ALPHA_IDS)
def test_alpha_clips_are_transparent_except_figure_and_mark(
    library: tuple[Path, dict[str, dict]], exercise_id: str
) -> None:
    clips_dir, entries = library
    entry = entries[exercise_id]
    x, y, w, h = mark_box(entry["height"])
    checked = 0
    for index, frame in enumerate(decoded_frames(clips_dir / entry["clip"])):
        if index % 10:
            continue
        assert frame.format.name.startswith("yuva")
        alpha = alpha_plane(frame)
        assert (alpha[y : y + h, x : x + w] == 255).all(), "the mark strip is opaque"
        outside_mark = alpha.copy()
        outside_mark[: y + h + 1, : x + w + 1] = 0
        assert (outside_mark == 255).mean() > 0.005, "the figure is opaque"
        assert (alpha == 0).mean() > 0.8, "the background is transparent"
        for corner in (alpha[-40:, -40:], alpha[:40, -40:], alpha[-40:, :40], alpha[y + h + 10 : y + h + 50, :200]):
            assert (corner == 0).all()
        checked += 1
    assert checked == math.ceil(entry["frames"] / 10)


def test_opaque_clips_have_no_alpha(library: tuple[Path, dict[str, dict]]) -> None:
    clips_dir, entries = library
    for entry in entries.values():
        if not entry["alpha"]:
            frame = next(decoded_frames(clips_dir / entry["clip"]))
            assert frame.format.name == "yuv420p"


def test_the_library_covers_every_category_and_level_with_and_without_jumps() -> None:
    ids = [sample.id for sample in SAMPLE_EXERCISES]
    assert len(ids) >= 15 and len(set(ids)) == len(ids)
    assert ids[: len(ORIGINAL_SIX)] == list(ORIGINAL_SIX)
    assert set(ids) == set(POSES) == set(SAMPLE_CATEGORIES) == set(SAMPLE_FRENCH_NAMES)
    assert {sample.category for sample in SAMPLE_EXERCISES} == MAIN_CATEGORIES
    assert {sample.difficulty for sample in SAMPLE_EXERCISES} == set(DIFFICULTIES)
    assert {sample.jump for sample in SAMPLE_EXERCISES} == {True, False}
    for sample in SAMPLE_EXERCISES:
        assert sample.category in SAMPLE_CATEGORIES[sample.id], sample.id
        assert SAMPLE_FRENCH_NAMES[sample.id].strip(), sample.id
    # every category a sample is filed under, main or extra, has an exercise at every level
    for category in {category for categories in SAMPLE_CATEGORIES.values() for category in categories}:
        levels = {sample.difficulty for sample in SAMPLE_EXERCISES if category in SAMPLE_CATEGORIES[sample.id]}
        assert levels == set(DIFFICULTIES), category


def test_the_library_mixes_source_formats_within_its_budget() -> None:
    assert {sample.codec for sample in SAMPLE_EXERCISES} == {"h264", "prores"}
    assert {sample.fps for sample in SAMPLE_EXERCISES} <= FRAME_RATES
    assert {sample.height for sample in SAMPLE_EXERCISES} >= {360, 540, 720, 1080}
    for sample in SAMPLE_EXERCISES:
        assert sample.width * 9 == sample.height * 16, sample.id  # landscape 16:9, like real footage
        assert 0.5 <= sample.loop_seconds <= 3.2, sample.id
    assert sum(sample.frames for sample in SAMPLE_EXERCISES) <= MAX_LIBRARY_FRAMES


def test_every_exercise_has_its_own_figure_colour() -> None:
    colours = [sample.colour for sample in SAMPLE_EXERCISES]
    for index, colour in enumerate(colours):
        for other in colours[index + 1 :]:
            assert math.dist(colour, other) >= MIN_COLOUR_DISTANCE, (colour, other)


@pytest.mark.parametrize("sample", SAMPLE_EXERCISES, ids=[sample.id for sample in SAMPLE_EXERCISES])
def test_the_frame_after_the_last_is_the_first(sample) -> None:
    """A virtual frame after the last one shows the first frame's pose, reached by an ordinary step."""
    poses = [sample.pose(index / sample.frames) for index in range(sample.frames)] + [sample.pose(1.0)]
    for joint in JOINTS:
        assert poses[-1][joint] == pytest.approx(poses[0][joint], abs=1e-9)
    steps = [max(math.dist(a[joint], b[joint]) for joint in JOINTS) for a, b in zip(poses, poses[1:])]
    assert steps[-1] <= max(steps[:-1]) + 1e-9, "the loop point jumps"


@pytest.mark.parametrize("exercise_id", list(PROMISED))
def test_pose_loops_exactly(exercise_id: str) -> None:
    pose = POSES[exercise_id]
    start, end = pose(0.0), pose(1.0)
    assert set(start) == set(JOINTS)
    for joint in JOINTS:
        assert start[joint] == pytest.approx(end[joint], abs=1e-12)
        assert pose(0.999999)[joint] == pytest.approx(start[joint], abs=1e-3)


@pytest.mark.parametrize("exercise_id", list(PROMISED))
def test_poses_are_plausible(exercise_id: str) -> None:
    """Limbs keep their length, nothing sinks into the floor, and only jumping exercises leave it."""
    limbs = {("neck", "pelvis"): TORSO}
    for side in "lr":
        limbs |= {
            (f"shoulder_{side}", f"elbow_{side}"): UPPER_ARM,
            (f"elbow_{side}", f"hand_{side}"): FOREARM,
            (f"hip_{side}", f"knee_{side}"): THIGH,
            (f"knee_{side}", f"ankle_{side}"): SHIN,
        }
    airborne = False
    for step in range(240):
        pose = POSES[exercise_id](step / 240)
        for (a, b), length in limbs.items():
            assert math.dist(pose[a], pose[b]) == pytest.approx(length, abs=1e-6), (a, b, step)
        lowest = min(y for _, y in pose.values())
        assert lowest > -1e-3, f"{exercise_id} sinks into the floor at step {step}"
        assert min(pose["ankle_l"][1], pose["ankle_r"][1]) >= ANKLE_HEIGHT - 1e-9, step
        airborne |= lowest > 2 * GROUND_CONTACT
        if not PROMISED[exercise_id][3]:
            assert lowest < GROUND_CONTACT, f"{exercise_id} leaves the floor at step {step}"
    assert airborne == PROMISED[exercise_id][3]


@pytest.mark.parametrize("exercise_id", list(PROMISED))
def test_last_frame_flows_into_the_first(library: tuple[Path, dict[str, dict]], exercise_id: str) -> None:
    clips_dir, entries = library
    entry = entries[exercise_id]
    below_mark = 2 * cell_size(entry["height"])
    frames = [
        frame.to_ndarray(format="gray")[below_mark::4, ::4].astype(np.float32)
        for frame in decoded_frames(clips_dir / entry["clip"])
    ]
    neighbours = [float(np.abs(b - a).mean()) for a, b in zip(frames, frames[1:])]
    wrap = float(np.abs(frames[0] - frames[-1]).mean())
    travel = max(float(np.abs(frame - frames[0]).mean()) for frame in frames)
    codec_noise = 0.05
    assert wrap <= max(neighbours) + codec_noise
    assert wrap < 0.25 * travel, "the loop moves, and comes back to where it started"


def test_second_run_keeps_existing_clips(library: tuple[Path, dict[str, dict]]) -> None:
    clips_dir, entries = library
    before = {path.name: path.stat().st_mtime_ns for path in clips_dir.iterdir()}
    again = generate_samples(clips_dir)
    assert {entry["id"]: entry for entry in again} == entries
    assert {path.name: path.stat().st_mtime_ns for path in clips_dir.iterdir()} == before
    assert not [path for path in clips_dir.iterdir() if "partial" in path.name]


def test_broken_clip_is_made_again(library: tuple[Path, dict[str, dict]]) -> None:
    clips_dir, entries = library
    broken = clips_dir / entries["jumping_jack"]["clip"]
    broken.write_bytes(broken.read_bytes()[:5000])
    others = {path.name: path.stat().st_mtime_ns for path in clips_dir.iterdir() if path != broken}
    reports: list[tuple[str, float | None]] = []
    again = generate_samples(clips_dir, report=lambda sample, path, seconds: reports.append((sample.id, seconds)))
    assert {entry["id"]: entry for entry in again} == entries
    assert [exercise_id for exercise_id, seconds in reports if seconds is not None] == ["jumping_jack"]
    assert {path.name: path.stat().st_mtime_ns for path in clips_dir.iterdir() if path != broken} == others
    assert len(list(decoded_frames(broken))) == entries["jumping_jack"]["frames"]


def test_cli_writes_the_catalogue(library: tuple[Path, dict[str, dict]], capsys: pytest.CaptureFixture[str]) -> None:
    clips_dir, entries = library
    assert main(["--out", str(clips_dir)]) == 0
    document = json.loads((clips_dir / CATALOGUE_FILE).read_text())
    assert document["exercises"] == [entries[sample.id] for sample in SAMPLE_EXERCISES]
    assert [track["id"] for track in document["music"]] == ["groove"]
    assert (clips_dir / document["music"][0]["file"]).is_file()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(SAMPLE_EXERCISES) + 1
    assert all(sample.clip_name in line for sample, line in zip(SAMPLE_EXERCISES, lines))


def test_catalogue_loads_in_the_server_catalogue(library: tuple[Path, dict[str, dict]]) -> None:
    from assets.catalogue import load_catalogue

    clips_dir, entries = library
    main(["--out", str(clips_dir)])
    catalogue = load_catalogue(clips_dir)
    for exercise_id, entry in entries.items():
        exercise = catalogue.get(exercise_id)
        assert exercise.clip_path == clips_dir / entry["clip"]
        assert exercise.frames == entry["frames"] and exercise.fps == Fraction(entry["fps"])


def test_a_sample_library_from_an_older_release_gains_the_new_samples(sample_clips_dir: Path, tmp_path: Path) -> None:
    """A data directory holding the first six samples only is topped up; its clips are reused."""
    import json
    import shutil

    from assets.library import ensure_sample_library, library_is_complete

    source = sample_clips_dir
    old = tmp_path / "exercises"
    shutil.copytree(source, old)
    document = json.loads((old / "catalogue.json").read_text())
    document["exercises"] = document["exercises"][:6]
    (old / "catalogue.json").write_text(json.dumps(document))
    kept = (old / document["exercises"][0]["clip"]).stat().st_mtime_ns
    assert not library_is_complete(old)
    ensure_sample_library(old)
    assert library_is_complete(old)
    assert len(json.loads((old / "catalogue.json").read_text())["exercises"]) == len(SAMPLE_EXERCISES)
    assert (old / document["exercises"][0]["clip"]).stat().st_mtime_ns == kept


def test_a_catalogue_of_other_exercises_is_not_replaced_by_samples(sample_clips_dir: Path, tmp_path: Path) -> None:
    import json
    import shutil

    from assets.library import library_is_complete

    source = sample_clips_dir
    own = tmp_path / "own"
    shutil.copytree(source, own)
    document = json.loads((own / "catalogue.json").read_text())
    document["exercises"] = [{**document["exercises"][0], "id": "my_move"}]
    (own / "catalogue.json").write_text(json.dumps(document))
    assert library_is_complete(own)
