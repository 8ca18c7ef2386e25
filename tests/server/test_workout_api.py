"""Workouts: the stored plan with its timeline summary, and plans generated from a request."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config.settings import Settings


@pytest.fixture(scope="module")
def client(new_data_dir):
    settings = Settings(data_dir=new_data_dir(), warm_clips=False, rate_limit_per_minute=0)  # more than a burst here
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_a_workout_comes_with_its_timeline_summary(client):
    plan = {
        "items": [{"exercise_id": "squat", "work_seconds": 30, "rest_seconds": 15}] * 2,
        "rounds": 3,
        "rest_between_rounds_seconds": 45,
    }
    identifier = client.post("/api/plans", json=plan).json()["id"]
    workout = client.get(f"/api/workouts/{identifier}").json()
    summary = workout["summary"]
    assert summary["rounds"] == 3 and summary["exercises_per_round"] == 2
    assert summary["work_seconds"] == 6 * 30
    assert summary["rest_seconds"] == 3 * 15 + 2 * 45
    assert summary["total_seconds"] == 3 + 180 + 135 + 4
    assert sum(block["seconds"] for block in summary["blocks"]) == summary["total_seconds"]
    assert workout["playlist_url"].endswith(f"/hls/{identifier}/master.m3u8")
    assert client.get("/api/workouts/0123456789abcdef0123").status_code == 404


def test_a_sentence_becomes_a_stored_plan_of_the_asked_length_with_reasons(client):
    response = client.post("/api/generate-training", json={"text": "20 min low-impact legs, beginner", "seed": 3})
    assert response.status_code in (200, 201), response.text
    body = response.json()
    assert abs(body["summary"]["total_seconds"] - 20 * 60) <= 60
    used = {item["exercise_id"] for item in body["plan"]["items"]}
    assert used <= {"squat", "glute_bridge", "calf_raise"} and used  # the beginner legs moves without jumps
    assert body["explanation"] and all(isinstance(line, str) for line in body["explanation"])
    assert client.get(body["playlist_url"]).status_code == 200


def test_generation_is_deterministic_for_a_seed(client):
    request = {"duration_minutes": 15, "intensity": "high", "seed": 11}
    first, again = (
        client.post("/api/generate-training", json=request),
        client.post("/api/generate-training", json=request),
    )
    assert first.json()["id"] == again.json()["id"]
    assert again.status_code == 200  # the same plan: already stored


def test_a_request_nothing_can_satisfy_is_a_422_saying_why(client):
    # the only beginner cardio move (jumping jack) jumps
    response = client.post(
        "/api/generate-training",
        json={"duration_minutes": 10, "focus": ["cardio"], "no_jump": True, "difficulty": "beginner"},
    )
    assert response.status_code == 422 and "no exercise" in response.json()["detail"]


@pytest.mark.parametrize(
    "request_body", [{}, {"duration_minutes": 2}, {"duration_minutes": 10, "colour": "red"}, {"duration_minutes": "10"}]
)
def test_malformed_generation_requests_are_a_422_naming_the_field(client, request_body):
    response = client.post("/api/generate-training", json=request_body)
    assert response.status_code == 422
    assert response.json()["fields"]


def test_a_body_over_64_kb_is_a_413(client):
    response = client.post(
        "/api/generate-training", content=b"{" + b" " * (70 * 1024) + b"}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("text", "minutes", "allowed"),
    [
        (
            "45 min full body strength no burpees",
            45,
            {"squat", "lunge", "push_up", "jumping_jack", "knee_push_up", "pike_push_up", "inchworm"},
        ),
        ("séance de 20 minutes pour les jambes, sans saut, débutant", 20, {"squat", "glute_bridge", "calf_raise"}),
        ("20 min low-impact legs, beginner", 20, {"squat", "glute_bridge", "calf_raise"}),
    ],
)
def test_the_sentences_of_issue_15_are_understood_in_english_and_french(client, text, minutes, allowed):
    response = client.post("/api/generate-training", json={"text": text, "seed": 5})
    assert response.status_code in (200, 201), response.text
    body = response.json()
    assert abs(body["summary"]["total_seconds"] - minutes * 60) <= 0.05 * minutes * 60
    used = {item["exercise_id"] for item in body["plan"]["items"]}
    assert used <= allowed and len(used) >= 2  # nothing excluded, and no single exercise repeated throughout
    assert not any(line.startswith("Not understood") for line in body["explanation"])


def test_a_format_without_a_length_gets_its_standard_length(client):
    response = client.post("/api/generate-training", json={"text": "Tabata abs"})
    assert response.status_code in (200, 201), response.text
    body = response.json()
    assert body["summary"]["total_seconds"] == 3 + 4 * 230 + 3 * 60 + 4  # four 4-minute Tabata blocks
    assert {(item["work_seconds"], item["rest_seconds"]) for item in body["plan"]["items"]} == {(20, 10)}
    assert any("standard Tabata" in line for line in body["explanation"])


def test_words_the_server_did_not_understand_are_named_in_the_explanation(client):
    response = client.post("/api/generate-training", json={"text": "20 min de yoga pour les jambes, sans pompes"})
    assert response.status_code in (200, 201), response.text
    explanation = response.json()["explanation"]
    assert 'Not understood, so ignored: "yoga".' in explanation
    # "pompes" is the sample catalogue's French name of the push-up: understood, and left out.
    assert "From the text: 20 min, focus legs, without Push-up." in explanation
    assert response.json()["plan"]["language"] == "fr"
