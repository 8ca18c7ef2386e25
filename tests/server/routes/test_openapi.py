"""The OpenAPI document: every route is in it, with the bounds the server enforces."""

from __future__ import annotations

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from playlists.plan import MAX_ITEMS, MAX_ROUNDS
from server.app import create_app
from server.config.settings import Settings
from server.routes.openapi import OPERATIONS, build_openapi, openapi_path


@pytest.fixture(scope="module")
def app(new_data_dir):
    return create_app(Settings(data_dir=new_data_dir(), warm_clips=False))


@pytest.fixture(scope="module")
def document(app) -> dict:
    with TestClient(app) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def app_operations(app) -> set[tuple[str, str]]:
    return {
        (method.lower(), openapi_path(route.path))
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods - {"HEAD"}
    }


def test_it_is_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")


def test_every_route_of_the_app_appears(app, document):
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert app_operations(app) <= documented


def test_every_route_of_the_app_is_described_not_just_listed(app):
    assert app_operations(app) - set(OPERATIONS) == set()


def test_path_parameters_use_openapi_names_not_starlette_converters(document):
    assert "/hls/{plan_id}/{rendition}/{index}.ts" in document["paths"]
    assert not any(":" in path for path in document["paths"])


def test_the_plan_body_schema_carries_the_model_bounds(document):
    schemas = document["components"]["schemas"]
    operation = document["paths"]["/api/plans"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Plan"}
    plan = schemas["Plan"]
    assert plan["properties"]["items"]["maxItems"] == MAX_ITEMS
    assert plan["properties"]["rounds"]["maximum"] == MAX_ROUNDS
    assert plan["additionalProperties"] is False
    assert "PlanItem" in schemas and "GenerateRequest" in schemas


def test_errors_have_a_schema_naming_fields_and_rules(document):
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "detail"]
    assert error["properties"]["fields"]["items"]["required"] == ["loc", "msg", "type"]
    post = document["paths"]["/api/plans"]["post"]["responses"]
    assert post["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_a_route_without_a_description_still_appears_with_its_parameters():
    async def endpoint(request):
        raise AssertionError("never called")

    document = build_openapi([Route("/new/{thing_id:int}", endpoint, methods=["GET"])])
    operation = document["paths"]["/new/{thing_id}"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["thing_id"]
