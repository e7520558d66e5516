"""Every /api/v1 operation of the OpenAPI document is described and shows examples: a description (the
handler's docstring), an example for each JSON request body and 2xx response — and each example is valid for
its own schema, so an integrator can send it as it stands."""

from __future__ import annotations

import json

import jsonschema_rs
import pytest

from api.app import create_app

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads(json.dumps(create_app().openapi_schema.to_schema(), default=str))


def _operations(document: dict):
    for path, item in document["paths"].items():
        if path.startswith("/api/v1"):
            for method in METHODS:
                if method in item:
                    yield f"{method.upper()} {path}", item[method]


def _json_media(content: dict):
    return [(media_type, media) for media_type, media in content.items() if "json" in media_type]


def test_every_operation_has_a_summary_and_a_description(document):
    missing = [name for name, operation in _operations(document)
               if not operation.get("summary") or not (operation.get("description") or "").strip()]
    assert not missing, "operations without a description (a handler docstring):\n" + "\n".join(missing)


def test_every_request_body_and_success_response_has_an_example(document):
    missing = []
    for name, operation in _operations(document):
        bodies = [("request", operation.get("requestBody", {}).get("content", {}))]
        bodies += [(status, response.get("content", {})) for status, response in operation["responses"].items()
                   if status.startswith("2")]
        for where, content in bodies:
            for media_type, media in _json_media(content):
                if not media.get("examples") and "example" not in media:
                    missing.append(f"{name} {where} {media_type}")
    assert not missing, "bodies without an example:\n" + "\n".join(missing)


def test_every_example_is_valid_for_its_schema(document):
    invalid = []
    for name, operation in _operations(document):
        contents = [operation.get("requestBody", {}).get("content", {})]
        contents += [r.get("content", {}) for s, r in operation["responses"].items() if s.startswith("2")]
        for content in contents:
            for _, media in _json_media(content):
                validator = jsonschema_rs.Draft202012Validator({**media["schema"], "components": document["components"]})
                for example in (media.get("examples") or {}).values():
                    errors = [e.message for e in validator.iter_errors(example["value"])]
                    if errors:
                        invalid.append(f"{name}: {errors[:2]}")
    assert not invalid, "\n".join(invalid)
