"""The balancer's configuration (`infra.balancer`) and its access log (`tests.cluster.local`)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from starlette.routing import Route

from infra.balancer import COMPOSE_CONFIG, Balancer, compose_balancer, nginx_conf
from server.app import create_app
from server.config.settings import Settings
from tests.cluster.local import parse_access_line

PLAN_ID = "0123456789abcdef0123"


def plan_key_patterns() -> list[re.Pattern[str]]:
    """The `map $uri $plan_key` regular expressions, as Python patterns."""
    text = nginx_conf(Balancer(listen="8080", nodes=["a:1"]))
    patterns = [re.compile(p.replace("(?<", "(?P<")) for p in re.findall(r'^\s*"~(.+)" \$plan;$', text, re.MULTILINE)]
    assert patterns, "no plan_key map in the configuration"
    return patterns


def plan_key(path: str) -> str | None:
    for pattern in plan_key_patterns():
        if match := pattern.search(path):
            return match["plan"]
    return None


def test_the_compose_balancer_file_is_the_generated_one():
    assert COMPOSE_CONFIG.read_text() == nginx_conf(compose_balancer()), "run: python -m infra.balancer --write"


def test_every_route_about_a_plan_is_hashed_on_its_plan_id_and_no_other_route_is(tmp_path):
    app = create_app(Settings(data_dir=tmp_path))
    paths = [route.path for route in app.routes if isinstance(route, Route)]
    assert any("{plan_id}" in path for path in paths)
    for path in paths:
        concrete = re.sub(r"\{plan_id\}", PLAN_ID, path)
        concrete = re.sub(r"\{index(:int)?\}", "3", concrete)
        concrete = re.sub(r"\{\w+(:\w+)?\}", "720p", concrete)
        expected = PLAN_ID if "{plan_id}" in path else None
        assert plan_key(concrete) == expected, path


def test_a_failover_is_logged_with_every_node_tried():
    line = (
        '127.0.0.1 [2026-12-05T00:54:00+00:00] "GET /hls/5059316886ad3a435039/360p/4.ts HTTP/1.1" 200 460224 '
        'plan=5059316886ad3a435039 upstream="127.0.0.1:57107, 127.0.0.1:38151" upstream_status="502, 200" '
        "request_time=0.287 request_id=ddc07da7a7b86c01e4cb815b60da096c"
    )
    parsed = parse_access_line(line)
    assert parsed is not None
    assert parsed.path == "/hls/5059316886ad3a435039/360p/4.ts" and parsed.status == 200
    assert parsed.upstreams == ("127.0.0.1:57107", "127.0.0.1:38151")
    assert parsed.upstream_statuses == ("502", "200")
    assert parse_access_line("2026/12/05 [error] connect() failed") is None


def test_a_balancer_needs_a_node():
    with pytest.raises(ValueError):
        nginx_conf(Balancer(listen="8080", nodes=[]))


def test_nginx_accepts_the_generated_configuration(tmp_path):
    if shutil.which("nginx") is None:
        pytest.fail("nginx is not installed (./scripts/test installs nginx-light)")
    balancer = Balancer(
        listen="127.0.0.1:1",
        nodes=["127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:4"],
        pid_file=str(tmp_path / "nginx.pid"),
        access_log=str(tmp_path / "access.log"),
        error_log=str(tmp_path / "error.log"),
        temp_dir=str(tmp_path),
    )
    (tmp_path / "nginx.conf").write_text(nginx_conf(balancer))
    checked = subprocess.run(
        ["nginx", "-t", "-e", str(tmp_path / "error.log"), "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stderr
