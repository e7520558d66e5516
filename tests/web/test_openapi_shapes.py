"""The shapes the OpenAPI document promises integrators: every collection answers the list envelope
`{items,total,page,page_size,pages,sort}` (never a bare array), and every upload is a multipart/form-data body whose
file part is described."""

from __future__ import annotations

import json

import pytest

from api.app import create_app

METHODS = ("get", "put", "post", "delete", "patch")
ENVELOPE = {"items", "total", "page", "page_size", "pages", "sort"}
# The uploads of the API: each takes its file in the part named `file`.
UPLOADS = [
    "/api/v1/complaints/{complaint_id}/attachments",
    "/api/v1/customers/import",
    "/api/v1/mystery-shopper/audits/import",
    "/api/v1/manufacturer-scores/import",
    "/api/v1/users/import",
]


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads(json.dumps(create_app().openapi_schema.to_schema(), default=str))


def _resolve(schema: dict, document: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _success_schemas(document: dict):
    for path, item in document["paths"].items():
        for method in METHODS:
            for status, response in item.get(method, {}).get("responses", {}).items():
                if status.startswith("2"):
                    for media_type, media in response.get("content", {}).items():
                        if "json" in media_type:
                            yield f"{method.upper()} {path} {status}", _resolve(media.get("schema", {}), document)


def _is_array(schema: dict) -> bool:
    kind = schema.get("type")
    return kind == "array" or (isinstance(kind, list) and "array" in kind)


def test_no_operation_answers_a_bare_array(document):
    """A GET of a collection, and a write answering the collection it saved, answer the list envelope."""
    bare = [name for name, schema in _success_schemas(document) if _is_array(schema)]
    assert not bare, "answers a bare array instead of the list envelope:\n" + "\n".join(bare)


def test_every_envelope_is_complete(document):
    """Whatever carries `items` and `total` carries the whole envelope, so that paging reads the same everywhere."""
    partial = [name for name, schema in _success_schemas(document)
               if {"items", "total"} <= set(schema.get("properties", {}))
               and not ENVELOPE <= set(schema.get("required", []))]
    assert not partial, "\n".join(partial)


@pytest.mark.parametrize("path", UPLOADS)
def test_every_upload_is_a_described_multipart_body(document, path):
    body = document["paths"][path]["post"].get("requestBody", {})
    assert body.get("required") is True
    assert list(body.get("content", {})) == ["multipart/form-data"]
    schema = _resolve(body["content"]["multipart/form-data"]["schema"], document)
    file = schema["properties"]["file"]
    assert "file" in schema.get("required", [])
    assert file["type"] == "string" and file["format"] == "binary"
    assert len(file.get("description", "")) > 10


def test_the_uploads_listed_are_every_multipart_body(document):
    """A new upload joins UPLOADS (and so the checks above)."""
    multipart = sorted(path for path, item in document["paths"].items() for method in METHODS
                       if "multipart/form-data" in item.get(method, {}).get("requestBody", {}).get("content", {}))
    assert multipart == sorted(UPLOADS)
