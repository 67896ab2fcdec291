"""The OpenAPI document is valid OpenAPI 3 and tells the truth about the API's shapes."""

import pytest
from marshmallow import Schema, fields
from openapi_spec_validator import validate

from backend.api.openapi import DECIMAL_PATTERN

METHODS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture(scope="module")
def document(app):
    return app.test_client().get("/api/v1/openapi.json").get_json()


def walk(node, path=()):
    """Yield (path, dict) for every object in the document."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, (*path, i))


def resolve(document, node):
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = document["components"][kind][name]
    return node


def test_the_document_is_valid_openapi(document):
    validate(document)


def test_every_error_response_has_the_apis_error_shape(document):
    error = document["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"error"} and error["required"] == ["error"]
    body = resolve(document, error["properties"]["error"])
    assert {"code", "message", "fields"} <= set(body["properties"])
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            for status, response in operation["responses"].items():
                if status != "default" and int(status) < 400:
                    continue
                schema = resolve(document, resolve(document, response)["content"][
                    "application/json"]["schema"])
                assert schema is error, (method, path, status)
                checked += 1
    assert checked >= 60
    # flask-smorest's own shape ({code, status, message, errors}) appears nowhere.
    assert not [p for p, node in walk(document["components"]["schemas"])
                if {"status", "errors"} <= set(node.get("properties", {}))]


def test_decimals_are_documented_as_the_strings_they_are_sent_as(document, client, db):
    schemas = document["components"]["schemas"]
    for name in ("area_after_m2", "cost_yuan", "subsidy_yuan"):
        assert schemas["Case"]["properties"][name]["type"] == "string"
        assert schemas["Case"]["properties"][name]["pattern"] == DECIMAL_PATTERN
    for path, node in walk(document):
        for key in ("minimum", "maximum", "x-minimum", "x-maximum"):
            if key in node and node.get("format") not in ("date", "date-time"):
                assert isinstance(node[key], int | float), (path, key, node[key])
    documented = 0
    for cls in subclasses(Schema):
        properties = schemas.get(cls.__name__.removesuffix("Schema"), {}).get("properties", {})
        for name, field in cls._declared_fields.items():
            if isinstance(field, fields.Decimal) and name in properties:
                prop = properties[field.data_key or name]
                kinds = [prop] + prop.get("anyOf", [])
                assert any(k.get("type") == "string" and k.get("pattern") == DECIMAL_PATTERN
                           for k in kinds), (cls.__name__, name, prop)
                assert prop.get("type") != "number", (cls.__name__, name)
                documented += 1
    assert documented >= 15


def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)


def test_uploads_are_multipart_request_bodies(document):
    for path in ("/api/v1/photos/{photo_id}", "/api/v1/attachments/{attachment_id}"):
        operation = document["paths"][path]["put"]
        assert all(p["in"] in ("path", "query", "header") for p in operation.get("parameters",
                                                                                   []))
        schema = resolve(document, operation["requestBody"]["content"]["multipart/form-data"][
            "schema"])
        assert schema["properties"]["file"] == {"type": "string", "format": "binary"}
        assert "file" in schema["required"]
    photo = document["paths"]["/api/v1/photos/{photo_id}"]["put"]["requestBody"]["content"][
        "multipart/form-data"]["schema"]
    assert {"household_id", "phase"} <= set(photo["required"])
    assert photo["properties"]["case_id"]["nullable"] is True
    assert "formData" not in str(document)


def test_nullable_fields_are_marked(document):
    visit = document["components"]["schemas"]["Visit"]["properties"]
    assert visit["case_id"]["nullable"] is True
    assert visit["reviewed_at"]["nullable"] is True


def test_building_another_app_leaves_this_apps_document_whole(client, tmp_path):
    """Each app has its own Api: another app, even one refused half-way through its settings,
    does not empty the document this one serves."""
    from backend import create_app

    with pytest.raises(ValueError):
        create_app({"TESTING": True, "SECRET_KEY": "x", "TRUSTED_PROXIES": "not an address",
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                    "INSTANCE_DIR": str(tmp_path)})
    assert "/api/v1/households" in client.get("/api/v1/openapi.json").get_json()["paths"]
