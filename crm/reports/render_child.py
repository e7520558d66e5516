"""Imported once by the forkserver the render children are forked from (`crm.reports.render.renderer`):
WeasyPrint loaded and its fonts warm, so that no child pays for it (seconds on a busy machine) per report."""

from crm.reports import render

render.warm()
