"""Callback jobs: the daily care planner (birthdays, holidays, insurance and inspection reminders)."""

from __future__ import annotations

from crm.callbacks.care import plan_care


async def plan_care_calls(ctx: dict) -> dict:
    return await plan_care()
