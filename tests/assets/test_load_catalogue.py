"""Loading the generated sample catalogue into the repository (both databases), directly and by the CLI."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pytest

from assets.catalogue import CATALOGUE_FILE, file_version, load_catalogue
from assets.load_catalogue import LoadReport, load_records, records_from_catalogue
from assets.records import SAMPLE_CATEGORIES, SAMPLE_FRENCH_NAMES, ExerciseRecord
from assets.repository import Repository
from tests.assets.repository_backends import Backend, backend_for, scratch_postgres_database, sqlite_backend
from tests.conftest import data_dir_with_samples

REPO = Path(__file__).resolve().parents[2]
CLI_TIMEOUT_SECONDS = 120


@pytest.fixture(scope="module")
def postgres_dsn() -> Iterator[str]:
    with scratch_postgres_database() as dsn:
        yield dsn


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return backend_for(request, tmp_path)


def test_records_carry_the_catalogue_and_the_clip_file_facts(sample_clips_dir: Path) -> None:
    catalogue = load_catalogue(sample_clips_dir)
    records = records_from_catalogue(sample_clips_dir)
    assert [record.id for record in records] == sorted(SAMPLE_CATEGORIES)
    for record in records:
        entry = catalogue.get(record.id)
        assert record.categories == tuple(sorted(SAMPLE_CATEGORIES[record.id]))
        assert (record.name, record.difficulty, record.jump) == (entry.name, entry.difficulty, entry.jump)
        assert record.name_fr == entry.name_fr == SAMPLE_FRENCH_NAMES[record.id]
        clip = record.clip
        assert clip is not None
        assert clip.key == entry.clip_path.name
        assert (sample_clips_dir / clip.key).is_file()
        assert clip.version == file_version(entry.clip_path)
        assert clip.size_bytes == entry.clip_path.stat().st_size
        assert clip.duration_seconds == pytest.approx(float(Fraction(entry.frames) / entry.fps))
        assert clip.duration_seconds == pytest.approx(entry.loop_seconds, abs=1e-6)
        assert (clip.fps, clip.frames, clip.width, clip.height) == (entry.fps, entry.frames, entry.width, entry.height)
        assert (clip.alpha, clip.codec) == (entry.alpha, entry.codec)


def test_a_catalogue_written_before_french_names_still_loads_them(sample_clips_dir: Path, tmp_path: Path) -> None:
    clips_dir = tmp_path / "exercises"
    shutil.copytree(sample_clips_dir, clips_dir)
    document = json.loads((clips_dir / CATALOGUE_FILE).read_text())
    for entry in document["exercises"]:
        del entry["name_fr"]
    (clips_dir / CATALOGUE_FILE).write_text(json.dumps(document))
    assert all(exercise.name_fr is None for exercise in load_catalogue(clips_dir).exercises.values())
    records = records_from_catalogue(clips_dir)
    assert {record.id: record.name_fr for record in records} == SAMPLE_FRENCH_NAMES


def test_loading_stores_every_sample_exercise_and_reloading_changes_nothing(
    backend: Backend, sample_clips_dir: Path
) -> None:
    records = records_from_catalogue(sample_clips_dir)

    async def body(repository: Repository) -> tuple[LoadReport, LoadReport, list[ExerciseRecord]]:
        first = await load_records(repository, records)
        second = await load_records(repository, records)
        return first, second, await repository.all_exercises()

    first, second, stored = backend.run(body)
    ids = [record.id for record in records]
    assert first == LoadReport(created=ids)
    assert second == LoadReport(unchanged=ids)
    assert stored == records


def test_reloading_restores_an_exercise_changed_since(backend: Backend, sample_clips_dir: Path) -> None:
    records = records_from_catalogue(sample_clips_dir)

    async def body(repository: Repository) -> tuple[LoadReport, ExerciseRecord | None]:
        await load_records(repository, records)
        squat = await repository.get_exercise("squat")
        assert squat is not None
        await repository.put_exercise(dataclasses.replace(squat, name="Renamed", categories=("core",)))
        report = await load_records(repository, records)
        return report, await repository.get_exercise("squat")

    report, squat = backend.run(body)
    assert report.updated == ["squat"]
    assert len(report.unchanged) == len(records) - 1
    assert squat == next(record for record in records if record.id == "squat")


def run_cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "HLS_DATA_DIR")}
    return subprocess.run(
        [sys.executable, "-m", "assets.load_catalogue", *arguments],
        check=False,
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
    )


def test_cli_loads_the_data_dir_catalogue_into_the_configured_store_idempotently(
    backend: Backend, sample_clips_dir: Path, tmp_path: Path
) -> None:
    data_dir = data_dir_with_samples(tmp_path / "server", sample_clips_dir)
    arguments = ["--data-dir", str(data_dir)]
    if backend.name == "postgres":
        arguments += ["--database-url", backend.location]
    count = len(SAMPLE_CATEGORIES)

    first = run_cli(*arguments)
    assert first.returncode == 0, first.stderr
    assert f"{count} created, 0 updated, 0 unchanged" in first.stdout
    second = run_cli(*arguments)
    assert second.returncode == 0, second.stderr
    assert f"0 created, 0 updated, {count} unchanged" in second.stdout
    if backend.name == "sqlite":
        assert (data_dir / "plans.sqlite3").is_file()

    async def stored_ids(repository: Repository) -> list[str]:
        return [record.id for record in await repository.all_exercises()]

    store = sqlite_backend(data_dir / "plans.sqlite3") if backend.name == "sqlite" else backend
    assert store.run(stored_ids, migrate=False) == sorted(SAMPLE_CATEGORIES)


def test_cli_reports_a_missing_catalogue_without_a_traceback(tmp_path: Path) -> None:
    result = run_cli("--data-dir", str(tmp_path / "empty"))
    assert result.returncode == 1
    assert "cannot read the sample catalogue" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "empty" / "plans.sqlite3").exists()
