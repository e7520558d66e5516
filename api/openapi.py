"""Examples for the OpenAPI document: every JSON request body and success response shows one.

Litestar documents a handler's docstring (`use_handler_docstrings`) and the schemas of its bodies; the
examples are built here from those schemas — enumerations, bounds, formats and lengths respected, and values
named after the field in the domain's words (a mainland mobile for `mobile`, a valid VIN for `vin`, 沪A12345
for `plate`) — unless a field or a handler already gives its own (`msgspec.Meta(examples=...)`,
`ResponseSpec(examples=...)`). They are written once into the document the app serves at /schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from litestar.openapi.spec import (
    Example,
    OpenAPI,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
)

from crm.customers.validation import vin_check_digit

_VIN = "LSVAU2180N2183294"
EXAMPLE_VIN = _VIN[:8] + vin_check_digit(_VIN) + _VIN[9:]

# A field's example by its name (the whole name, else its last word): the words integrators meet in the domain.
BY_NAME: dict[str, Any] = {
    "mobile": "13812345678", "phone": "13812345678", "phone2": "021-62345678", "address": "13812345678",
    "vin": EXAMPLE_VIN, "plate": "沪A12345", "email": "zhang.wei@example.com", "username": "zhangwei",
    "password": "Dealer-Desk-2026", "new_password": "Dealer-Desk-2026", "current_password": "Dealer-Desk-2026",
    "name": "张伟", "display_name": "王芳", "customer": "张伟先生", "complainant_name": "张伟",
    "new_customer_name": "张伟", "contact_person": "李娜", "salesperson": "李娜", "advisor": "赵强",
    "store_name": "上海浦东4S店", "store": "上海浦东4S店", "brand": "大众", "model": "帕萨特", "colour": "白色",
    "car": "大众 帕萨特", "content": "保养后发动机异响，要求免费检修", "expected_solution": "免费检修并道歉",
    "comment": "客户对交车过程满意", "note": "已与客户电话确认", "reason": "客户要求更正", "opinion": "同意转交",
    "description": "服务顾问未按流程解释", "resolution": "已免费更换部件并致歉", "countermeasure": "安排技师复检",
    "result": "问题已解决，客户认可", "improvement_measures": "加强交车前检查", "script": "您好！我是{门店}的回访专员。",
    "title_zh": "新投诉待处理", "title_en": "New complaint to handle", "body_zh": "客户张伟投诉维修质量",
    "body_en": "Customer Zhang Wei complains about repair quality", "label_zh": "交车后2小时关怀回访",
    "label_en": "Care call 2 hours after delivery", "message_zh": "请填写投诉内容", "message_en": "Content is required",
    "link": "/complaints/123", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
    "order_no": "SO20261202001", "repair_order_no": "RO20261202001", "external_ref": "DMS-88231",
    "id_number": "310101199001011234", "postcode": "200120", "code": "SH01", "timezone": "Asia/Shanghai",
    "month": "2026-12", "locale": "zh", "secret": "SEC…", "token": "ddk_3f9a…", "field": "mobile",
    "object_type": "complaint", "subject_type": "complaint", "engine_no": "EA888123456", "insurer": "中国平安",
    "region": "华东", "city": "上海", "province": "上海", "last_error": "",
    "state": "due", "phase": "due", "outcome": "reached", "survey": "ssi", "kind": "delivery_care_2h",
    "kind_label": "交车后2小时关怀回访", "kind_label_en": "Care call 2 hours after delivery", "state_label": "待回访",
    "phase_label": "待回访", "phase_label_en": "Due", "outcome_label": "已接通", "outcome_label_en": "Reached",
    "zh": "示例", "en": "Example",
}
# The key of a map (an object without named properties), by the map's name.
MAP_KEYS = {"scores": "salesperson", "corrections": "mobile", "amounts": "sales", "changes": "mobile"}

# Request bodies whose fields are alternatives (one example with every field would contradict itself): named
# examples by the body's schema title, shown instead of the generated one.
NAMED_EXAMPLES: dict[str, dict[str, Any]] = {
    "IntakeRequest": {
        "by_customer": {"channel": "hotline_400", "content": "保养后发动机异响，要求免费检修",
                        "customer_id": 123, "vehicle_id": 456, "expected_solution": "免费检修并道歉"},
        "by_plate": {"channel": "hotline_400", "content": "新车异响，多次维修未解决", "plate": "粤AD12345",
                     "complainant_phone": "13812345678", "urgency": "urgent"},
        "by_vin": {"channel": "manufacturer", "content": "厂家转来的投诉：空调不制冷", "vin": EXAMPLE_VIN,
                   "external_ref": "OEM-2026-0042"},
        "new_customer": {"channel": "hotline_400", "content": "销售顾问承诺的赠品未兑现", "store_id": 12,
                         "new_customer_name": "张伟", "new_customer_mobile": "13812345678"},
    },
}
BY_FORMAT = {"date-time": "2026-12-02T10:00:00+08:00", "date": "2026-12-02", "binary": "(file)"}
BY_PATTERN = {
    r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$": "2026-12", r"^\d{4}-\d{2}$": "2026-12", r"^\d{4}-(0[1-9]|1[0-2])$": "2026-12",
    r"^([01]\d|2[0-3]):[0-5]\d$": "09:00",
}
_DEPTH = 6


def streamed_upload(file: str) -> type[Operation]:
    """The operation of a handler that reads its multipart/form-data body itself, as it arrives (Litestar then sees
    no `data` to document): the body, with its `file` part described by `file`. Pass as `operation_class`."""
    body = RequestBody(required=True, content={"multipart/form-data": OpenAPIMediaType(schema=Schema(
        type=OpenAPIType.OBJECT, required=["file"], properties={"file": Schema(
            type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, content_media_type="application/octet-stream",
            description=file)}))})

    @dataclass
    class StreamedUpload(Operation):
        def __post_init__(self) -> None:
            self.request_body = body

    return StreamedUpload


def add_examples(openapi: OpenAPI) -> None:
    """Give every JSON request body and 2xx response of the document an example, where it has none."""
    document = openapi.to_schema()
    components = document.get("components", {}).get("schemas", {})
    for path, item in (openapi.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            raw = document["paths"][path][method]
            body = operation.request_body
            if body is not None and not isinstance(body, Reference):
                _fill(body.content, raw["requestBody"]["content"], components)
            for status, response in (operation.responses or {}).items():
                if str(status).startswith("2") and not isinstance(response, Reference) and response.content:
                    _fill(response.content, raw["responses"][str(status)]["content"], components)


def _fill(content: dict, raw_content: dict, components: dict) -> None:
    for media_type, media in content.items():
        if media.examples or media.example is not None or "json" not in media_type:
            continue
        schema = raw_content[media_type]["schema"]
        named = NAMED_EXAMPLES.get(components.get(schema.get("$ref", "").rsplit("/", 1)[-1], {}).get("title", ""))
        if named:
            media.examples = {key: Example(summary=key.replace("_", " "), value=value) for key, value in named.items()}
        else:
            media.examples = {"example": Example(summary="Example", value=example_of(schema, components))}


def example_of(schema: dict, components: dict, name: str = "", depth: int = 0) -> Any:
    """A value valid for `schema` (a JSON schema dict, `$ref`s into `components`), named for the field `name`."""
    if "$ref" in schema:
        return example_of(components[schema["$ref"].rsplit("/", 1)[-1]], components, name, depth)
    if schema.get("examples"):
        return schema["examples"][0]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return next((v for v in schema["enum"] if v is not None), None)
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            branches = [b for b in schema[key] if b.get("type") != "null"] or schema[key]
            siblings = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf", "examples")}
            return example_of({**siblings, **branches[0]}, components, name, depth)
    if schema.get("allOf"):
        merged: dict = {}
        for part in schema["allOf"]:
            merged |= part
        return example_of(merged, components, name, depth)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        return _object(schema, components, name, depth)
    if kind == "array":
        if depth > _DEPTH:
            return []
        item = example_of(schema.get("items", {}), components, _singular(name), depth + 1)
        return [item] * max(1, schema.get("minItems", 1))
    if kind == "string":
        return _string(schema, name)
    if kind == "integer":
        return int(_number(schema, 42 if name == "id" or name.endswith("_id") else 3))
    if kind == "number":
        return float(_number(schema, 0.95 if "rate" in name else 8.5))
    if kind == "boolean":
        return schema.get("default", True)
    if kind == "null":
        return None
    return BY_NAME.get(name, "示例")


def _object(schema: dict, components: dict, name: str, depth: int) -> dict:
    if depth > _DEPTH:
        return {}
    properties = schema.get("properties")
    if properties:
        return {key: example_of(sub, components, key, depth + 1) for key, sub in properties.items()}
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict) and extra:
        key = MAP_KEYS.get(name, "key")
        return {key: example_of(extra, components, key, depth + 1)}
    return {}


def _string(schema: dict, name: str) -> str:
    pattern = schema.get("pattern", "")
    if pattern in BY_PATTERN:
        return BY_PATTERN[pattern]
    if schema.get("format") in BY_FORMAT:
        return BY_FORMAT[schema["format"]]
    value = BY_NAME.get(name, BY_NAME.get(name.rsplit("_", 1)[-1]))
    if value is None and name.endswith(("_zh", "_en")):
        value = "示例" if name.endswith("_zh") else "Example"
    if not isinstance(value, str):
        value = schema["default"] if schema.get("default") else "示例"
    if pattern and not re.search(pattern, value):
        found = re.fullmatch(r"\^\((\w+)\|.*\)\$", pattern)  # an alternation of words: its first
        value = found.group(1) if found else value
    value = value[: schema.get("maxLength", len(value))]
    return value.ljust(schema.get("minLength", 0), "0")


def _number(schema: dict, fallback: float) -> float:
    value = schema.get("default") if isinstance(schema.get("default"), (int, float)) else fallback
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if low is not None and value < low:
        value = low if "minimum" in schema else low + 1
    if high is not None and value > high:
        value = high if "maximum" in schema else high - 1
    return value


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") else name
