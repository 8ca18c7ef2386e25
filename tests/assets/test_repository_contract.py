"""The repository contract: every test runs against SQLite and against a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import asyncpg
import pytest

from assets.postgres_repository import PostgresRepository
from assets.records import ClipInfo, ExerciseInUse, ExerciseQuery, ExerciseRecord
from assets.repository import (
    ConstraintViolation,
    Repository,
    RepositoryError,
    RepositoryUnavailable,
    describe_target,
    open_repository,
)
from assets.sqlite_repository import SqliteRepository
from tests.assets.repository_backends import Backend, backend_for, scratch_postgres_database

CLIP = ClipInfo(
    key="clips/squat/0123456789abcdef0123.mp4",
    version="0123456789abcdef0123",
    fps=Fraction(30000, 1001),
    frames=60,
    width=1920,
    height=1080,
    alpha=True,
    codec="prores",
    duration_seconds=60 * 1001 / 30000,
    size_bytes=3_000_000_000,  # beyond 32 bits
)


def exercise(
    exercise_id: str = "squat",
    name: str = "Squat",
    *,
    difficulty: str = "beginner",
    jump: bool = False,
    categories: tuple[str, ...] = ("legs",),
    description: str = "",
    clip: ClipInfo | None = CLIP,
    name_fr: str | None = None,
) -> ExerciseRecord:
    return ExerciseRecord(exercise_id, name, difficulty, jump, categories, description, clip, name_fr)


def plan_id(number: int) -> str:
    return f"{number:020x}"


def plan_json(*exercise_ids: str) -> str:
    items = ",".join(f'{{"exercise_id":"{exercise_id}"}}' for exercise_id in exercise_ids)
    return f'{{"items":[{items}],"rounds":1}}'


@pytest.fixture(scope="module")
def postgres_dsn() -> Iterator[str]:
    with scratch_postgres_database() as dsn:
        yield dsn


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return backend_for(request, tmp_path)


def test_put_exercise_reports_created_then_replaced(backend: Backend) -> None:
    async def body(repository: Repository) -> None:
        assert await repository.put_exercise(exercise(name="Squat")) is True
        assert await repository.put_exercise(exercise(name="Air squat", difficulty="advanced")) is False
        stored = await repository.get_exercise("squat")
        assert stored is not None
        assert (stored.name, stored.difficulty) == ("Air squat", "advanced")
        assert len(await repository.all_exercises()) == 1

    backend.run(body)


def test_put_exercises_stores_a_batch_whole_and_reports_each_created_or_replaced(backend: Backend) -> None:
    async def body(repository: Repository) -> tuple[list[bool], list[str]]:
        await repository.put_exercise(exercise("squat", "Squat"))
        created = await repository.put_exercises([exercise("lunge", "Lunge"), exercise("squat", "Air squat")])
        return created, [record.name for record in await repository.all_exercises()]

    created, names = backend.run(body)
    assert created == [True, False]
    assert sorted(names) == ["Air squat", "Lunge"]


def test_put_exercises_with_one_refused_record_stores_none_of_the_batch(backend: Backend) -> None:
    """A batch is one transaction: what seeds a shared database is never seen, or left, half done."""

    async def body(repository: Repository) -> list[ExerciseRecord]:
        with pytest.raises(ConstraintViolation):
            await repository.put_exercises([exercise("lunge", "Lunge"), exercise("Not An Id", "Plank")])
        return await repository.all_exercises()

    assert backend.run(body) == []


@pytest.mark.parametrize(
    "record",
    [
        exercise(name="Übung “quoted”", description="Knees over toes — 😀", jump=True, categories=("legs", "power")),
        exercise(clip=None),
        exercise(clip=dataclasses.replace(CLIP, fps=Fraction(25), alpha=False, duration_seconds=2.4)),
        exercise("push_up", "Push-up", name_fr="Pompe « claquée » à genoux"),
    ],
    ids=["unicode-and-clip", "no-clip", "integral-fps", "french-name"],
)
def test_get_exercise_returns_every_field_as_stored(backend: Backend, record: ExerciseRecord) -> None:
    async def body(repository: Repository) -> ExerciseRecord | None:
        await repository.put_exercise(record)
        return await repository.get_exercise(record.id)

    assert backend.run(body) == record


def test_a_french_name_round_trips_and_can_be_changed_or_removed(backend: Backend) -> None:
    async def body(repository: Repository) -> list[str | None]:
        names = []
        for name_fr in ("Fente", "Fente avant", None):
            await repository.put_exercise(exercise("lunge", "Lunge", name_fr=name_fr))
            stored = await repository.get_exercise("lunge")
            assert stored is not None
            names.append(stored.name_fr)
        return names

    assert backend.run(body) == ["Fente", "Fente avant", None]


def test_get_exercise_of_an_unknown_id_is_none(backend: Backend) -> None:
    async def body(repository: Repository) -> ExerciseRecord | None:
        return await repository.get_exercise("nobody")

    assert backend.run(body) is None


def test_put_exercise_replaces_the_categories_and_returns_them_sorted(backend: Backend) -> None:
    async def body(repository: Repository) -> tuple[ExerciseRecord | None, ExerciseRecord | None]:
        await repository.put_exercise(exercise(categories=("strength", "legs", "core")))
        first = await repository.get_exercise("squat")
        await repository.put_exercise(exercise(categories=("mobility",)))
        return first, await repository.get_exercise("squat")

    first, second = backend.run(body)
    assert first is not None and first.categories == ("core", "legs", "strength")
    assert second is not None and second.categories == ("mobility",)


def test_all_exercises_are_ordered_by_id(backend: Backend) -> None:
    async def body(repository: Repository) -> list[str]:
        for exercise_id, name in [("squat", "A"), ("burpee", "C"), ("lunge", "B"), ("b_2", "D")]:
            await repository.put_exercise(exercise(exercise_id, name))
        return [record.id for record in await repository.all_exercises()]

    assert backend.run(body) == ["b_2", "burpee", "lunge", "squat"]


CATALOGUE = [
    exercise("squat", "Squat", categories=("legs", "strength")),
    exercise("jumping_jack", "Jumping Jack", jump=True, categories=("cardio", "full_body")),
    exercise("push_up", "Push-up", difficulty="intermediate", categories=("strength", "upper_body")),
    exercise("lunge", "Lunge", difficulty="intermediate", categories=("legs", "strength")),
    exercise("plank", "Plank", description="Hold a straight line; brace the CORE.", categories=("core",)),
    exercise("burpee", "Burpee", difficulty="advanced", jump=True, categories=("cardio", "full_body")),
    exercise("box_jump", "Box jump", difficulty="advanced", jump=True, categories=("legs", "power"), clip=None),
]


def query_label(query: ExerciseQuery) -> str:
    """The fields that differ from the defaults, for readable test ids."""
    default = ExerciseQuery()
    changed = [
        f"{field.name}={getattr(query, field.name)!r}"
        for field in dataclasses.fields(query)
        if getattr(query, field.name) != getattr(default, field.name)
    ]
    return ",".join(changed) or "all"


async def _store_catalogue(repository: Repository) -> None:
    for record in CATALOGUE:
        await repository.put_exercise(record)


FILTER_CASES = [
    (ExerciseQuery(), ["box_jump", "burpee", "jumping_jack", "lunge", "plank", "push_up", "squat"]),
    (ExerciseQuery(category="legs"), ["box_jump", "lunge", "squat"]),
    (ExerciseQuery(category="legs", no_jump=True), ["lunge", "squat"]),
    (ExerciseQuery(difficulty="advanced"), ["box_jump", "burpee"]),
    (ExerciseQuery(difficulty="intermediate", category="strength"), ["lunge", "push_up"]),
    (ExerciseQuery(no_jump=True), ["lunge", "plank", "push_up", "squat"]),
    (ExerciseQuery(category="yoga"), []),
    (ExerciseQuery(text="JUMP"), ["box_jump", "jumping_jack"]),
    (ExerciseQuery(text="core"), ["plank"]),  # in the description only
    (ExerciseQuery(text="jump", no_jump=True), []),
    (ExerciseQuery(text="%"), []),  # wildcards are searched for literally
    (ExerciseQuery(text="_"), []),
    (ExerciseQuery(text="-"), ["push_up"]),
]


@pytest.mark.parametrize(("query", "expected"), FILTER_CASES, ids=[query_label(query) for query, _ in FILTER_CASES])
def test_find_exercises_applies_every_filter(backend: Backend, query: ExerciseQuery, expected: list[str]) -> None:
    async def body(repository: Repository) -> tuple[list[str], int]:
        await _store_catalogue(repository)
        page = await repository.find_exercises(query)
        return [record.id for record in page.items], page.total

    ids, total = backend.run(body)
    assert sorted(ids) == expected
    assert total == len(expected)


def test_find_exercises_text_search_folds_non_ascii_case(backend: Backend) -> None:
    async def body(repository: Repository) -> list[str]:
        await repository.put_exercise(exercise("uebung", "ÜBUNG am Boden"))
        await repository.put_exercise(exercise("squat", "Squat"))
        return [record.id for record in (await repository.find_exercises(ExerciseQuery(text="übung"))).items]

    assert backend.run(body) == ["uebung"]


def test_find_exercises_text_search_finds_an_exercise_by_its_french_name(backend: Backend) -> None:
    async def body(repository: Repository) -> list[str]:
        await repository.put_exercise(exercise("push_up", "Push-up", name_fr="Pompe"))
        await repository.put_exercise(exercise("squat", "Squat"))  # no French name: NULL never matches
        return [record.id for record in (await repository.find_exercises(ExerciseQuery(text="POMPE"))).items]

    assert backend.run(body) == ["push_up"]


def test_find_exercises_pages_in_name_order_with_the_total_before_paging(backend: Backend) -> None:
    names = [("b", "banana"), ("a2", "Apple"), ("a1", "Apple"), ("c", "cherry"), ("d", "Date"), ("e", "elder")]

    async def body(repository: Repository) -> list[tuple[list[str], int]]:
        for exercise_id, name in names:
            await repository.put_exercise(exercise(exercise_id, name))
        pages = []
        for offset in (0, 2, 4, 6):
            page = await repository.find_exercises(ExerciseQuery(limit=2, offset=offset))
            pages.append(([record.id for record in page.items], page.total))
        return pages

    # Case-insensitive by name, then by id for equal names.
    assert backend.run(body) == [(["a1", "a2"], 6), (["b", "c"], 6), (["d", "e"], 6), ([], 6)]


@pytest.mark.parametrize("query", [ExerciseQuery(limit=0), ExerciseQuery(limit=101), ExerciseQuery(offset=-1)])
def test_find_exercises_refuses_paging_out_of_range(backend: Backend, query: ExerciseQuery) -> None:
    async def body(repository: Repository) -> None:
        with pytest.raises(ConstraintViolation):
            await repository.find_exercises(query)

    backend.run(body)


def test_categories_are_created_on_demand_counted_and_kept_when_unused(backend: Backend) -> None:
    async def body(repository: Repository) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        await _store_catalogue(repository)
        before = await repository.categories()
        await repository.delete_exercise("plank")
        return before, await repository.categories()

    before, after = backend.run(body)
    assert before == [
        ("cardio", 2),
        ("core", 1),
        ("full_body", 2),
        ("legs", 3),
        ("power", 1),
        ("strength", 3),
        ("upper_body", 1),
    ]
    assert ("core", 0) in after
    assert dict(after)["legs"] == 3


def test_delete_exercise_removes_it_once(backend: Backend) -> None:
    async def body(repository: Repository) -> None:
        await repository.put_exercise(exercise())
        assert await repository.delete_exercise("squat") is True
        assert await repository.get_exercise("squat") is None
        assert await repository.delete_exercise("squat") is False
        assert await repository.find_exercises(ExerciseQuery(category="legs")) == (
            await repository.find_exercises(ExerciseQuery(category="nothing"))
        )

    backend.run(body)


def test_delete_exercise_is_refused_while_plans_use_it(backend: Backend) -> None:
    async def body(repository: Repository) -> None:
        await repository.put_exercise(exercise("squat"))
        await repository.put_exercise(exercise("lunge", "Lunge"))
        await repository.save_plan(plan_id(1), plan_json("squat", "lunge", "squat"), ["squat", "lunge", "squat"])
        await repository.save_plan(plan_id(2), plan_json("squat"), ["squat"])
        assert await repository.plans_using("squat") == 2
        assert await repository.plans_using("lunge") == 1
        with pytest.raises(ExerciseInUse) as refused:
            await repository.delete_exercise("squat")
        assert (refused.value.exercise_id, refused.value.plans) == ("squat", 2)
        assert await repository.get_exercise("squat") == exercise("squat")
        assert await repository.plans_using("nobody") == 0

    backend.run(body)


def test_save_plan_is_new_once_and_loads_the_exact_json(backend: Backend) -> None:
    document = '{"z":1,"a":[1.0,2e3],"name":"Übung"}'  # key order and number spelling must survive

    async def body(repository: Repository) -> None:
        await repository.put_exercise(exercise())
        assert await repository.save_plan(plan_id(7), document, ["squat"]) is True
        assert await repository.save_plan(plan_id(7), document, ["squat"]) is False
        assert await repository.load_plan(plan_id(7)) == document
        assert await repository.load_plan(plan_id(8)) is None
        assert await repository.plans_using("squat") == 1

    backend.run(body)


def test_save_plan_naming_an_unknown_exercise_fails_and_stores_nothing(backend: Backend) -> None:
    async def body(repository: Repository) -> None:
        await repository.put_exercise(exercise())
        with pytest.raises(ConstraintViolation):
            await repository.save_plan(plan_id(3), plan_json("squat", "ghost"), ["squat", "ghost"])
        assert await repository.load_plan(plan_id(3)) is None
        assert await repository.plans_using("squat") == 0

    backend.run(body)


@pytest.mark.parametrize(
    ("identifier", "document"),
    [(plan_id(4), "{not json"), ("NOT-HEX", "{}"), ("ab", "{}")],
    ids=["invalid-json", "id-not-hex", "id-too-short"],
)
def test_save_plan_refuses_malformed_plans(backend: Backend, identifier: str, document: str) -> None:
    async def body(repository: Repository) -> None:
        with pytest.raises(ConstraintViolation):
            await repository.save_plan(identifier, document, [])
        assert await repository.load_plan(identifier) is None

    backend.run(body)


def test_concurrent_saves_of_one_plan_store_one_row_and_one_creation(backend: Backend) -> None:
    clients = 20

    async def body(repository: Repository) -> None:
        await repository.put_exercise(exercise())
        document = plan_json("squat", "squat")
        results = await asyncio.gather(
            *(repository.save_plan(plan_id(9), document, ["squat", "squat"]) for _ in range(clients))
        )
        assert sorted(results) == [False] * (clients - 1) + [True]
        assert await repository.load_plan(plan_id(9)) == document
        assert await repository.plans_using("squat") == 1

    backend.run(body)


def test_concurrent_creates_of_one_exercise_report_one_creation(backend: Backend) -> None:
    writers = 10

    async def body(repository: Repository) -> None:
        results = await asyncio.gather(
            *(repository.put_exercise(exercise(name=f"Squat {n}", categories=("legs",))) for n in range(writers))
        )
        assert sorted(results) == [False] * (writers - 1) + [True]
        assert [record.id for record in await repository.all_exercises()] == ["squat"]
        assert await repository.categories() == [("legs", 1)]

    backend.run(body)


INVALID_EXERCISES = {
    "id-uppercase": exercise("Squat"),
    "id-leading-underscore": exercise("_squat"),
    "id-too-long": exercise("s" * 65),
    "name-empty": exercise(name=""),
    "name-blank": exercise(name="   "),
    "name-too-long": exercise(name="n" * 81),
    "name-fr-empty": exercise(name_fr=""),
    "name-fr-blank": exercise(name_fr="   "),
    "name-fr-too-long": exercise(name_fr="é" * 81),
    "description-too-long": exercise(description="d" * 501),
    "difficulty-unknown": exercise(difficulty="expert"),
    "category-bad-id": exercise(categories=("Legs",)),
    "categories-none": exercise(categories=()),
    "categories-too-many": exercise(categories=tuple(f"c{n}" for n in range(9))),
    "categories-repeated": exercise(categories=("legs", "legs")),
    "clip-no-frames": exercise(clip=dataclasses.replace(CLIP, frames=0)),
    "clip-version-not-hex": exercise(clip=dataclasses.replace(CLIP, version="z" * 20)),
    "clip-codec-empty": exercise(clip=dataclasses.replace(CLIP, codec="")),
    "clip-zero-size": exercise(clip=dataclasses.replace(CLIP, size_bytes=0)),
}


@pytest.mark.parametrize("record", INVALID_EXERCISES.values(), ids=INVALID_EXERCISES.keys())
def test_invalid_exercises_are_refused_as_repository_errors(backend: Backend, record: ExerciseRecord) -> None:
    async def body(repository: Repository) -> None:
        with pytest.raises(ConstraintViolation) as refused:
            await repository.put_exercise(record)
        assert not isinstance(refused.value, (sqlite3.Error, asyncpg.PostgresError))
        assert await repository.all_exercises() == []

    backend.run(body)


def test_a_refused_replacement_keeps_the_stored_exercise(backend: Backend) -> None:
    async def body(repository: Repository) -> None:
        await repository.put_exercise(exercise(categories=("legs",)))
        with pytest.raises(ConstraintViolation):
            await repository.put_exercise(exercise(categories=("legs", "BAD")))
        assert await repository.get_exercise("squat") == exercise(categories=("legs",))

    backend.run(body)


def test_ping_succeeds_on_a_reachable_database(backend: Backend) -> None:
    async def body(repository: Repository) -> None:
        await repository.ping()

    backend.run(body, migrate=False)


def test_ping_reports_an_unreachable_postgres_server() -> None:
    async def scenario() -> None:
        repository = PostgresRepository("postgresql://postgres@127.0.0.1:1/nowhere")
        try:
            with pytest.raises(RepositoryUnavailable):
                await repository.ping()
            with pytest.raises(RepositoryUnavailable):
                await repository.get_exercise("squat")
        finally:
            await repository.close()

    asyncio.run(scenario())


def test_ping_reports_a_missing_postgres_database(postgres_dsn: str) -> None:
    async def scenario() -> None:
        repository = PostgresRepository(postgres_dsn.rsplit("/", 1)[0] + "/hls_test_does_not_exist")
        try:
            with pytest.raises(RepositoryUnavailable):
                await repository.ping()
        finally:
            await repository.close()

    asyncio.run(scenario())


def test_a_sqlite_file_that_cannot_be_created_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_directory"
    blocker.write_text("")
    with pytest.raises(RepositoryUnavailable):
        SqliteRepository(blocker / "plans.sqlite3")


def test_open_repository_chooses_postgres_for_a_url_and_sqlite_otherwise(tmp_path: Path) -> None:
    postgres = open_repository("postgresql://postgres@127.0.0.1:5432/test", tmp_path / "unused.sqlite3")
    sqlite = open_repository(None, tmp_path / "plans.sqlite3")
    try:
        assert isinstance(postgres, PostgresRepository)
        assert isinstance(sqlite, SqliteRepository)
        assert not (tmp_path / "unused.sqlite3").exists()
    finally:
        asyncio.run(postgres.close())
        asyncio.run(sqlite.close())
    with pytest.raises(RepositoryError, match="mysql"):
        open_repository("mysql://root@localhost/db", tmp_path / "plans.sqlite3")


def test_describe_target_never_shows_a_password(tmp_path: Path) -> None:
    assert (
        describe_target("postgresql://app:s3cret@db:5432/hls", tmp_path)
        == "PostgreSQL postgresql://app:***@db:5432/hls"
    )
    assert describe_target("postgresql://app@db/hls", tmp_path) == "PostgreSQL postgresql://app@db/hls"
    assert describe_target(None, tmp_path / "x.sqlite3") == f"SQLite {tmp_path / 'x.sqlite3'}"
