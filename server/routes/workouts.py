"""Workouts: a stored plan with its computed timeline, and plans generated from a request.

GET  /api/workouts/{plan_id}        the plan, its playlist URLs and a timeline summary
POST /api/generate-training         {duration_minutes, intensity, focus, no_jump, no_repeat, difficulty,
                                     seed, text} -> a stored plan, its playlist URL and why it looks so
"""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from playlists.generator import CannotGenerate, GenerateRequest, generate
from playlists.plan import Plan
from playlists.presentation import Presentation
from playlists.timeline import BlockKind
from server.bodies import json_body
from server.errors import InvalidPlan, InvalidRequest
from server.middleware.rate_limit import enforce_rate_limit
from server.routes.streams import checked_plan_id, plan_document, service, validation_fields


def timeline_summary(presentation: Presentation) -> dict:
    """What a coach app shows before playing: total length, time under work and rest, every block."""
    timeline = presentation.timeline
    fps = timeline.fps
    seconds = {kind: 0.0 for kind in BlockKind}
    blocks = []
    for block in timeline.blocks:
        seconds[block.kind] += block.frames / fps
        blocks.append(
            {
                "kind": block.kind.value,
                "exercise_id": block.exercise_id,
                "round": block.round,
                "start_seconds": block.start_frame / fps,
                "seconds": block.frames / fps,
            }
        )
    return {
        "total_seconds": float(timeline.duration),
        "rounds": timeline.rounds,
        "exercises_per_round": timeline.items_per_round,
        "work_seconds": seconds[BlockKind.WORK],
        "rest_seconds": seconds[BlockKind.REST],
        "blocks": blocks,
    }


async def get_workout(request: Request) -> Response:
    identifier = checked_plan_id(request)
    presentation = await service(request).presentation(identifier)
    return JSONResponse(plan_document(request, identifier, presentation) | {"summary": timeline_summary(presentation)})


async def generate_training(request: Request) -> Response:
    enforce_rate_limit(request)
    try:
        wish = GenerateRequest.model_validate(await json_body(request))
    except ValidationError as error:
        raise InvalidRequest("the request is not valid", validation_fields(error)) from None
    exercises = await request.app.state.exercises.repository.all_exercises()
    playable = set(service(request).catalogue.exercises)
    try:
        generated = generate(wish, [record for record in exercises if record.id in playable])
    except CannotGenerate as error:
        raise InvalidRequest(str(error)) from None
    try:
        plan = Plan.model_validate(generated.plan)
    except ValidationError as error:  # the generator promises valid plans; say so loudly if not
        raise InvalidPlan("the generated plan is not valid", validation_fields(error)) from error
    streaming = service(request)
    identifier, created = await streaming.create_plan(plan)
    presentation = await streaming.presentation(identifier)
    body = plan_document(request, identifier, presentation) | {
        "explanation": generated.explanation,
        "summary": timeline_summary(presentation),
    }
    return JSONResponse(body, status_code=201 if created else 200)


WORKOUT_ROUTES = [
    Route("/api/workouts/{plan_id}", get_workout, methods=["GET"]),
    Route("/api/generate-training", generate_training, methods=["POST"]),
]
