"""The response bodies DrChrono sends that its document does not describe.

Corrections name these shapes (``drf_detail``, ``oauth_token``...) instead of repeating schemas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_STRING_LIST: dict[str, Any] = {"type": "array", "items": {"type": "string"}}

DRF_DETAIL: dict[str, Any] = {
    "title": "Django REST framework error",
    "description": 'DRF error body, e.g. {"detail": "Not found."} (401/403/404/405/409/429).',
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string"}},
}

DRF_FIELD_ERRORS: dict[str, Any] = {
    "title": "Django REST framework validation errors",
    "description": "Field name -> list of messages (nested serializers nest objects), "
    "or a bare list of messages.",
    "anyOf": [
        {
            "type": "object",
            "additionalProperties": {"anyOf": [_STRING_LIST, {"$ref": "#/anyOf/0"}]},
        },
        _STRING_LIST,
    ],
}

OAUTH_ERROR: dict[str, Any] = {
    "title": "OAuth 2.0 error (RFC 6749 5.2, as sent by django-oauth-toolkit)",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "string",
            "enum": [
                "access_denied",
                "invalid_client",
                "invalid_grant",
                "invalid_request",
                "invalid_scope",
                "invalid_token",
                "server_error",
                "temporarily_unavailable",
                "unauthorized_client",
                "unsupported_grant_type",
                "unsupported_token_type",
            ],
        },
        "error_description": {"type": "string"},
        "error_uri": {"type": "string"},
    },
}

OAUTH_TOKEN: dict[str, Any] = {
    "title": "OAuth 2.0 token response",
    "type": "object",
    "required": ["access_token", "expires_in", "token_type"],
    "properties": {
        "access_token": {"type": "string", "minLength": 1},
        "token_type": {"type": "string", "enum": ["Bearer", "bearer"]},
        "expires_in": {"type": "integer", "minimum": 0},
        "scope": {"type": "string"},
        "refresh_token": {"type": "string", "minLength": 1},
    },
}


@dataclass(frozen=True)
class BodyShape:
    """How a response body is checked: a schema file, an empty body, or not at all."""

    kind: str  # "json" (validate against schema), "empty", "any" (not checked)
    schema_file: str | None = None  # relative to the contracts directory
    schema: dict[str, Any] | None = None
    content_type: str | None = "application/json"


BODY_SHAPES: dict[str, BodyShape] = {
    "empty": BodyShape("empty", content_type=None),
    "any": BodyShape("any", content_type=None),
    "any_json": BodyShape("any"),
    "drf_detail": BodyShape("json", "schemas/errors/drf_detail.json", DRF_DETAIL),
    "drf_field_errors": BodyShape("json", "schemas/errors/drf_field_errors.json", DRF_FIELD_ERRORS),
    # 400 is either shape: DRF sends {"detail": ...} for parse errors and field errors otherwise.
    "drf_bad_request": BodyShape(
        "json",
        "schemas/errors/drf_bad_request.json",
        {
            "title": "Django REST framework 400 body",
            "anyOf": [{"$ref": "drf_field_errors.json"}, {"$ref": "drf_detail.json"}],
        },
    ),
    "oauth_error": BodyShape("json", "schemas/errors/oauth_error.json", OAUTH_ERROR),
    "oauth_token": BodyShape("json", "schemas/oauth/token.json", OAUTH_TOKEN),
}
