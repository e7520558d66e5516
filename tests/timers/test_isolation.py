"""Tests do not see each other's timers: every sweep and promotion a test runs names its own groups."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_every_sweep_and_promotion_in_the_tests_is_limited_to_the_tests_groups():
    unlimited = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"sweep", "promote"}
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "runner"
                and "groups" not in {keyword.arg for keyword in node.keywords}
            ):
                unlimited.append(f"{path.relative_to(TESTS)}:{node.lineno}")
    assert not unlimited, "pass groups=[tenant.group_id] (other tests' due timers would fire): " + ", ".join(unlimited)


def test_a_worker_serves_the_groups_of_timer_groups(monkeypatch):
    from crm.settings import get_settings

    for value, groups in (("", None), ("3, 7", (3, 7)), ("12", (12,))):
        monkeypatch.setenv("TIMER_GROUPS", value)
        get_settings.cache_clear()
        assert get_settings().timer_groups == groups
    get_settings.cache_clear()
