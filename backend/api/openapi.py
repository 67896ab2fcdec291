"""The OpenAPI document told true: errors in the API's own shape, Decimals as the strings they
are sent as, and uploads as multipart/form-data request bodies (OpenAPI 3, not 2's formData)."""

from apispec import BasePlugin
from marshmallow import Schema, fields
from marshmallow.fields import Dict, String

# What a Decimal looks like on the wire: "12345.67", "-0.5" (never a float, never "1E+2").
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"


class ErrorBodySchema(Schema):
    code = String(required=True, metadata={"example": "photo_too_large"})
    message = String(required=True, metadata={"example": "照片超过 20 MB"})
    fields = Dict(keys=String(), required=True, metadata={
        "description": "the refused fields, each with the reason"})
    details = Dict(keys=String(), metadata={
        "description": "numbers behind the refusal, when there are any"})


class ErrorSchema(Schema):
    """Every error of /api/v1: `{"error": {"code", "message", "fields"}}` (api/errors.py)."""

    error = fields.Nested(ErrorBodySchema, required=True)


def decimals_as_strings(converter, field, ret, **_kwargs) -> dict:
    """A Decimal leaves as a string: document it as one, with its bounds as numbers beside it
    (`x-minimum`, `x-maximum`); an input field accepts a JSON number too."""
    if not isinstance(field, fields.Decimal):
        return {}
    bounds = {f"x-{key}": float(ret.pop(key)) for key in ("minimum", "maximum") if key in ret}
    ret.pop("type", None)
    text = {"type": "string", "pattern": DECIMAL_PATTERN}
    if field.as_string or field.dump_only:
        return {**text, **bounds}
    number = {"type": "number", **{key[2:]: value for key, value in bounds.items()}}
    return {"anyOf": [text, number], **bounds}


def ecma_patterns(converter, field, ret, **_kwargs) -> dict:
    """OpenAPI's patterns are ECMA-262: Python's end anchor `\\Z` (which, unlike `$`, refuses a
    trailing newline) is written as ECMA's `$`, which means the same there."""
    pattern = ret.get("pattern")
    if isinstance(pattern, str) and pattern.endswith("\\Z"):
        return {"pattern": pattern[:-2] + "$"}
    return {}


class MultipartPlugin(BasePlugin):
    """flask-smorest writes `location="form"` arguments as OpenAPI 2 `formData` parameters;
    fold them, with the file fields, into one multipart/form-data request body."""

    def init_spec(self, spec):
        self.spec = spec

    def operation_helper(self, path=None, operations=None, **_kwargs):
        for operation in (operations or {}).values():
            parameters = operation.get("parameters", [])
            form = [p for p in parameters if isinstance(p, dict) and p.get("in") == "formData"]
            if not form:
                continue
            operation["parameters"] = [p for p in parameters if p not in form]
            content = operation.setdefault("requestBody", {"required": True}).setdefault(
                "content", {})
            schema = self._resolved(content.get("multipart/form-data", {}).get("schema"))
            properties = {**schema.get("properties", {}),
                          **{p["name"]: p["schema"] for p in form}}
            required = [*schema.get("required", []), *(p["name"] for p in form
                                                       if p.get("required"))]
            content["multipart/form-data"] = {"schema": {
                "type": "object", "properties": properties, "required": required}}
            operation["requestBody"]["required"] = True

    def _resolved(self, schema) -> dict:
        ref = (schema or {}).get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            return self.spec.components.schemas.get(ref.rsplit("/", 1)[1], {})
        return schema or {}


def init_api(api, app):
    """Bind flask-smorest's Api to the app with the document told as above."""
    api.ERROR_SCHEMA = ErrorSchema
    api.init_app(app, spec_kwargs={"extra_plugins": [MultipartPlugin()]})
    api.ma_plugin.converter.add_attribute_function(decimals_as_strings)
    api.ma_plugin.converter.add_attribute_function(ecma_patterns)
    return api
