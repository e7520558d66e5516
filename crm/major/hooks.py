"""Connects major complaints to the complaint lifecycle (importing this module is enough)."""

from __future__ import annotations

from crm.complaints.events import complaint_created, complaint_state_changed
from crm.major.service import on_complaint_created, on_complaint_state_changed

complaint_created.connect(on_complaint_created)
complaint_state_changed.connect(on_complaint_state_changed)
