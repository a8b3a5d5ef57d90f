"""The OpenAPI document is valid OpenAPI 3 and describes every registry resource."""

from __future__ import annotations

from schemathesis.specs.openapi.definitions import OPENAPI_30_VALIDATOR

RESOURCES = ("households", "laborers", "employers", "openings", "batches", "welfare-posts")


def test_document_validates_and_lists_every_resource(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    OPENAPI_30_VALIDATOR.validate(document)
    paths = document["paths"]
    for resource in RESOURCES:
        assert set(paths[f"/api/v1/{resource}"]) >= {"get", "post"}
        [item] = [p for p in paths if p.startswith(f"/api/v1/{resource}/{{") and p.endswith("}")]
        assert set(paths[item]) >= {"get", "patch"}
        assert paths[item]["get"]["security"] == [{"bearerAuth": []}]
    schemas = document["components"]["schemas"]
    assert schemas["Laborer"]["properties"]["physical_ability"]["enum"] == [
        "full",
        "moderate",
        "light",
        "none",
    ]
    assert "pickup_points" in schemas["Batch"]["required"]
    assert "error" in schemas["Error"]["properties"]
