"""The OpenAPI document: served, version 3.1, valid by an independent validator."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.versions.shortcuts import get_spec_version

pytestmark = pytest.mark.django_db


def test_the_openapi_document_is_valid_openapi_3_1(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    assert str(get_spec_version(document)) == "OpenAPIV3.1"
    validate(document)


def test_it_describes_every_endpoint_and_both_ways_to_authenticate(client):
    document = client.get("/api/openapi.json").json()
    paths = document["paths"]
    for path in (
        "/api/pieces/",
        "/api/pieces/{key}/",
        "/api/pieces/{key}/export/{fmt}/",
        "/api/export/{fmt}/",
        "/api/search/",
        "/api/authors/",
        "/api/topics/",
        "/api/regions/",
        "/api/lists/",
        "/api/lists/mine/",
        "/api/lists/{list_id}/export/{fmt}/",
    ):
        assert path in paths
    assert set(paths["/api/pieces/{key}/"]) == {"get", "put", "patch", "delete"}
    schemes = document["components"]["securitySchemes"]
    assert schemes["BearerToken"]["scheme"] == "bearer"
    assert schemes["SessionAuth"]["in"] == "cookie"
    # Reads are open: "no credentials" is one of the accepted alternatives.
    assert {} in paths["/api/pieces/"]["get"]["security"]
    assert {} not in paths["/api/pieces/"]["post"]["security"]
    export = paths["/api/export/{fmt}/"]["get"]["responses"]["200"]["content"]
    assert "application/x-research-info-systems" in export


def test_the_docs_page_renders(client):
    assert client.get("/api/docs").status_code == 200


def test_the_search_sort_parameter_lists_every_order(client):
    document = client.get("/api/openapi.json").json()
    parameters = document["paths"]["/api/search/"]["get"]["parameters"]
    schema = next(p["schema"] for p in parameters if p["name"] == "sort")
    schema = schema.get("allOf", [schema])[0]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert schema["enum"] == ["relevance", "newest", "oldest", "title", "author"]
