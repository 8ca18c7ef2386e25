"""pyproject.toml and the dependency locks agree, and every install goes through the locks.

requirements/runtime.txt and requirements/test.txt are written by `./scripts/lock` (uv pip compile,
hashes, `# via` annotations). Each check is a function of texts returning the problems it finds, one
message per package, so that the tests below run it on the real files and on tampered copies: a check
that cannot fail protects nothing.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
RUNTIME_LOCK = "requirements/runtime.txt"
TEST_LOCK = "requirements/test.txt"
# The locks are resolved for CPython 3.11 on Linux: dependency markers are judged there.
LOCK_ENVIRONMENT = {
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
}


@dataclass(frozen=True)
class Pin:
    name: str  # canonicalized
    version: Version
    hashes: tuple[str, ...]
    via: frozenset[str]


@dataclass(frozen=True)
class Project:
    name: str
    runtime: tuple[Requirement, ...]
    test: tuple[Requirement, ...]
    build: tuple[Requirement, ...]

    @property
    def source(self) -> str:
        """How uv names pyproject.toml in a `# via` annotation."""
        return f"{self.name} (pyproject.toml)"


def read(relative: str) -> str:
    return (REPO / relative).read_text()


def parse_project(text: str) -> Project:
    document = tomllib.loads(text)
    project = document["project"]
    return Project(
        name=project["name"],
        runtime=tuple(Requirement(line) for line in project.get("dependencies", [])),
        test=tuple(Requirement(line) for line in project.get("optional-dependencies", {}).get("test", [])),
        build=tuple(Requirement(line) for line in document["build-system"]["requires"]),
    )


def parse_lock(text: str) -> dict[str, Pin]:
    """`name==version \\` lines, their indented `--hash=` lines and `# via` comments (one or several names)."""
    pins: dict[str, Pin] = {}
    entries: list[list[str]] = []
    for line in text.splitlines():
        if not line.strip() or (line.startswith("#") and not entries):
            continue
        if line[0].isspace():
            entries[-1].append(line.strip())
        elif not line.startswith("#"):
            entries.append([line.strip()])
    for first, *rest in entries:
        requirement = Requirement(first.removesuffix("\\").strip())
        specifiers = list(requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
            raise ValueError(f"{requirement.name}: not pinned to one exact version ({requirement.specifier})")
        hashes = tuple(h for line in rest for h in re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
        # "# via pydantic", or "# via" followed by one "#   name" line per source
        sources = (re.sub(r"^via(\s+|$)", "", line.lstrip("#").strip()) for line in rest if line.startswith("#"))
        name = canonicalize_name(requirement.name)
        pins[name] = Pin(name, Version(specifiers[0].version), hashes, frozenset(filter(None, sources)))
    return pins


def applies(requirement: Requirement) -> bool:
    return requirement.marker is None or requirement.marker.evaluate(LOCK_ENVIRONMENT)


def unmet_requirements(requirements: tuple[Requirement, ...], pins: dict[str, Pin], lock: str) -> list[str]:
    """Each requirement (extras such as uvicorn[standard] matched by name) is pinned at a version it allows."""
    problems = []
    for requirement in filter(applies, requirements):
        pin = pins.get(canonicalize_name(requirement.name))
        if pin is None:
            problems.append(f"{requirement.name}: required by pyproject.toml ({requirement}) but not pinned in {lock}")
        elif not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{requirement.name}: {lock} pins {pin.version}, outside pyproject.toml's {requirement}")
    return problems


def direct_dependency_drift(project: Project, requirements: tuple[Requirement, ...], pins: dict[str, Pin], lock: str):
    """The packages uv annotates as coming from pyproject.toml are exactly its direct dependencies."""
    expected = {canonicalize_name(requirement.name) for requirement in filter(applies, requirements)}
    annotated = {name for name, pin in pins.items() if project.source in pin.via}
    return [
        f"{name}: a direct dependency in pyproject.toml, but {lock} was not resolved from it (run ./scripts/lock)"
        for name in sorted(expected - annotated)
    ] + [
        f"{name}: {lock} has it from pyproject.toml, which no longer lists it (run ./scripts/lock)"
        for name in sorted(annotated - expected)
    ]


def unhashed_pins(pins: dict[str, Pin], lock: str) -> list[str]:
    return [
        f"{name}: pinned in {lock} without a --hash=sha256:" for name, pin in sorted(pins.items()) if not pin.hashes
    ]


def version_disagreements(runtime: dict[str, Pin], test: dict[str, Pin]) -> list[str]:
    return [
        f"{name}: {RUNTIME_LOCK} pins {runtime[name].version}, {TEST_LOCK} pins {test[name].version}"
        for name in sorted(runtime.keys() & test.keys())
        if runtime[name].version != test[name].version
    ]


def pip_commands(text: str) -> list[str]:
    """Every `pip install` command of a shell script or Dockerfile, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [
        command.strip()
        for line in joined.splitlines()
        if not line.lstrip().startswith("#")
        for command in re.split(r"&&|;|\|\|", line)
        if re.search(r"\bpip3? install\b", command)
    ]


def unlocked_installs(text: str, lock: str) -> list[str]:
    """The file installs `lock` with --require-hashes, and nothing else but the project itself without deps."""
    problems = []
    commands = pip_commands(text)
    if not any("--require-hashes" in c.split() and re.search(rf"-r\s+{re.escape(lock)}(\s|$)", c) for c in commands):
        problems.append(f"no `pip install --require-hashes -r {lock}`")
    for command in commands:
        words = command.split()
        hashed_lock = "--require-hashes" in words and "-r" in words
        the_project_alone = "--no-deps" in words and "--no-build-isolation" in words and words[-1] == "."
        if not (hashed_lock or the_project_alone):
            problems.append(f"installs outside the lock: `{command}`")
    return problems


# The real files ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project() -> Project:
    return parse_project(read("pyproject.toml"))


@pytest.fixture(scope="module")
def runtime_pins() -> dict[str, Pin]:
    return parse_lock(read(RUNTIME_LOCK))


@pytest.fixture(scope="module")
def test_pins() -> dict[str, Pin]:
    return parse_lock(read(TEST_LOCK))


def test_every_runtime_dependency_is_pinned_in_both_locks_at_an_allowed_version(project, runtime_pins, test_pins):
    assert unmet_requirements(project.runtime, runtime_pins, RUNTIME_LOCK) == []
    assert unmet_requirements(project.runtime, test_pins, TEST_LOCK) == []


def test_every_test_extra_dependency_is_pinned_in_the_test_lock_at_an_allowed_version(project, test_pins):
    assert unmet_requirements(project.test, test_pins, TEST_LOCK) == []


def test_the_locks_were_resolved_from_the_current_direct_dependencies(project, runtime_pins, test_pins):
    assert direct_dependency_drift(project, project.runtime, runtime_pins, RUNTIME_LOCK) == []
    assert direct_dependency_drift(project, project.runtime + project.test, test_pins, TEST_LOCK) == []


def test_every_pinned_package_has_a_hash(runtime_pins, test_pins):
    assert unhashed_pins(runtime_pins, RUNTIME_LOCK) + unhashed_pins(test_pins, TEST_LOCK) == []


def test_the_two_locks_agree_on_every_shared_version(runtime_pins, test_pins):
    assert runtime_pins.keys() <= test_pins.keys(), "the test lock is the runtime lock plus the test extra"
    assert version_disagreements(runtime_pins, test_pins) == []


def test_the_build_backend_is_locked_so_the_project_installs_without_build_isolation(project, runtime_pins, test_pins):
    assert "setuptools" in {canonicalize_name(requirement.name) for requirement in project.build}
    assert unmet_requirements(project.build, runtime_pins, RUNTIME_LOCK) == []
    assert unmet_requirements(project.build, test_pins, TEST_LOCK) == []


@pytest.mark.parametrize(
    ("installer", "lock"),
    [("scripts/test", TEST_LOCK), ("scripts/serve", RUNTIME_LOCK), ("Dockerfile", RUNTIME_LOCK)],
)
def test_installs_go_through_the_locks_with_hashes(installer, lock):
    assert unlocked_installs(read(installer), lock) == []


def test_the_docker_image_gets_the_runtime_lock():
    dockerfile = read("Dockerfile")
    assert re.search(rf"^COPY .*\b{re.escape(RUNTIME_LOCK)}\b", dockerfile, re.MULTILINE)
    ignored = {line.strip().rstrip("/") for line in read(".dockerignore").splitlines()}
    assert not {"requirements", RUNTIME_LOCK, "*.txt"} & ignored


# Each check fails on a tampered copy, naming the package ------------------------------------------


def tampered(text: str, old: str, new: str) -> str:
    assert old in text, f"tampering needs {old!r} in the text"
    return text.replace(old, new, 1)


def pinned_line(lock_text: str, name: str) -> str:
    (line,) = re.findall(rf"^{re.escape(name)}==\S+", lock_text, re.MULTILINE)
    return line


def test_a_dependency_missing_from_the_lock_is_reported():
    added = tampered(read("pyproject.toml"), '"starlette>=0.47",', '"starlette>=0.47",\n    "Left_Unlocked>=1",')
    problems = unmet_requirements(parse_project(added).runtime, parse_lock(read(RUNTIME_LOCK)), RUNTIME_LOCK)
    assert problems == [
        f"Left_Unlocked: required by pyproject.toml (Left_Unlocked>=1) but not pinned in {RUNTIME_LOCK}"
    ]


def test_a_pin_outside_the_specifier_is_reported_by_canonical_name_with_extras(project):
    lock_text = read(RUNTIME_LOCK)
    old = pinned_line(lock_text, "uvicorn")
    pins = parse_lock(tampered(lock_text, old, "uvicorn==0.1.0"))
    assert unmet_requirements(project.runtime, pins, RUNTIME_LOCK) == [
        f"uvicorn: {RUNTIME_LOCK} pins 0.1.0, outside pyproject.toml's uvicorn[standard]>=0.30"
    ]


def test_a_test_extra_dependency_missing_from_the_test_lock_is_reported(project):
    lock_text = read(TEST_LOCK)
    pins = parse_lock(lock_text)
    del pins["pytest-xdist"]
    assert unmet_requirements(project.test, pins, TEST_LOCK) == [
        f"pytest-xdist: required by pyproject.toml (pytest-xdist>=3.6) but not pinned in {TEST_LOCK}"
    ]


def test_a_dependency_removed_from_pyproject_without_relocking_is_reported():
    text = read("pyproject.toml")
    project = parse_project(tampered(text, '    "m3u8>=6.0",\n', ""))
    problems = direct_dependency_drift(project, project.runtime, parse_lock(read(RUNTIME_LOCK)), RUNTIME_LOCK)
    assert problems == [
        f"m3u8: {RUNTIME_LOCK} has it from pyproject.toml, which no longer lists it (run ./scripts/lock)"
    ]


def test_a_dependency_added_to_pyproject_without_relocking_is_reported(project):
    # A lock compiled before pyproject listed packaging: it has packaging only through pytest.
    stale = parse_lock(read(TEST_LOCK))
    stale["packaging"] = replace(stale["packaging"], via=frozenset({"pytest"}))
    problems = direct_dependency_drift(project, project.runtime + project.test, stale, TEST_LOCK)
    assert problems == [
        f"packaging: a direct dependency in pyproject.toml, but {TEST_LOCK} was not resolved from it (run ./scripts/lock)"
    ]


def test_a_pin_without_hashes_is_reported():
    lock_text = read(RUNTIME_LOCK)
    stripped = re.sub(r"(?m)^(numpy==\S+) \\\n(?:\s+--hash=\S+(?: \\)?\n)+", r"\1\n", lock_text)
    assert stripped != lock_text
    assert unhashed_pins(parse_lock(stripped), RUNTIME_LOCK) == [
        f"numpy: pinned in {RUNTIME_LOCK} without a --hash=sha256:"
    ]


def test_a_version_the_two_locks_disagree_on_is_reported():
    test_text = read(TEST_LOCK)
    old = pinned_line(test_text, "starlette")
    problems = version_disagreements(
        parse_lock(read(RUNTIME_LOCK)), parse_lock(tampered(test_text, old, "starlette==0.47.0"))
    )
    assert problems == [f"starlette: {RUNTIME_LOCK} pins {old.split('==')[1]}, {TEST_LOCK} pins 0.47.0"]


def test_a_build_backend_below_the_build_requirement_is_reported(project):
    lock_text = read(RUNTIME_LOCK)
    pins = parse_lock(tampered(lock_text, pinned_line(lock_text, "setuptools"), "setuptools==67.0.0"))
    assert unmet_requirements(project.build, pins, RUNTIME_LOCK) == [
        f"setuptools: {RUNTIME_LOCK} pins 67.0.0, outside pyproject.toml's setuptools>=68"
    ]


def test_a_loose_pin_in_a_lock_is_refused():
    lock_text = read(RUNTIME_LOCK)
    with pytest.raises(ValueError, match="av: not pinned to one exact version"):
        parse_lock(tampered(lock_text, pinned_line(lock_text, "av"), "av>=14"))


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("--require-hashes -r requirements/test.txt", "-r requirements/test.txt", "no `pip install --require-hashes"),
        (
            "--no-deps --no-build-isolation -e .",
            "-e '.[test]'",
            "installs outside the lock: `python3 -m pip install -q --disable-pip-version-check -e '.[test]'`",
        ),
    ],
    ids=["without-hashes", "the-project-with-its-dependencies"],
)
def test_an_install_that_bypasses_the_lock_is_reported(old, new, problem):
    problems = unlocked_installs(tampered(read("scripts/test"), old, new), TEST_LOCK)
    assert any(message.startswith(problem) for message in problems), problems
