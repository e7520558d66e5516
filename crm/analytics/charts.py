"""One chart definition for a metric's trend (and for several lines over the same points, e.g. a store's
score against the regional and national averages): an SVG drawn here, shown by the pages and embedded as
is by the PDF reports (no JavaScript, no font or script loaded from the internet; Chinese labels)."""

from __future__ import annotations

import math
from html import escape

from crm.analytics.dashboard import Trend
from crm.analytics.metrics import Unit, display

WIDTH, HEIGHT = 720, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 32, 36, 44  # room for the last month label
FONT = "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"
# Series colours: the store first, then its references (regional, national average).
COLOURS = ("#2563eb", "#d97706", "#6b7280")


def trend_svg(trend: Trend, *, lang: str = "zh", width: int = WIDTH, height: int = HEIGHT) -> str:
    """A line chart of `trend`: one point per week or month, gaps where there was nothing to count."""
    title = f"{trend.scope_name} · {trend.label_en if lang == 'en' else trend.label_zh}"
    return lines_svg(title, [p.label for p in trend.points], [("", [p.value for p in trend.points])], trend.unit,
                     width=width, height=height)


def lines_svg(title: str, labels: list[str], series: list[tuple[str, list[float | None]]], unit: str, *,
              width: int = WIDTH, height: int = HEIGHT) -> str:
    """One line per named series over the same points (a legend when there are several); gaps where a value
    is missing. A manufacturer's scores (`Unit.INDEX`) get an axis around their values, others start at 0."""
    present = [v for _name, values in series for v in values if v is not None]
    bottom, top = _axis(present, unit)
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    step = plot_w / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return _LEFT + i * step

    def y(v: float) -> float:
        return _TOP + plot_h - ((v - bottom) / (top - bottom) * plot_h if top > bottom else 0)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" class="trend-chart" font-family="{escape(FONT)}" font-size="11">',
        f'<text x="{_LEFT}" y="20" font-size="14" fill="#1f2937">{escape(title)}</text>',
    ]
    for k in range(5):
        value = bottom + (top - bottom) * k / 4
        parts.append(f'<line x1="{_LEFT}" x2="{width - _RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     f'stroke="#e5e7eb"/>')
        parts.append(f'<text x="{_LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" fill="#6b7280">'
                     f'{escape(display(value, _axis_unit(unit)))}</text>')
    every = max(1, len(labels) // 12)
    for i, label in enumerate(labels):
        if i % every == 0:
            parts.append(f'<text x="{x(i):.1f}" y="{height - _BOTTOM + 16}" text-anchor="middle" fill="#6b7280">'
                         f'{escape(label)}</text>')
    for n, (name, values) in enumerate(series):
        colour = COLOURS[n % len(COLOURS)]
        dash = "" if n == 0 else ' stroke-dasharray="6 4"'
        for run in _runs(values):
            coords = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in run)
            parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for i, v in enumerate(values):
            if v is not None:
                label = f"{name + ' ' if name else ''}{labels[i]}: {display(v, unit)}"
                parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"><title>{escape(label)}'
                             f'</title></circle>')
        if len(series) > 1:
            left = width - _RIGHT - 110 * (len(series) - n)
            parts.append(f'<line x1="{left}" x2="{left + 18}" y1="16" y2="16" stroke="{colour}" stroke-width="2"{dash}/>'
                         f'<text x="{left + 22}" y="20" fill="#374151">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _runs(values: list[float | None]) -> list[list[tuple[int, float]]]:
    runs: list[list[tuple[int, float]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            runs.append([])
        else:
            runs[-1].append((i, v))
    return [run for run in runs if run]


def _axis(present: list[float], unit: str) -> tuple[float, float]:
    """The value axis: from 0 to a round top, or for a manufacturer's scores whole numbers around the values."""
    if unit == Unit.INDEX and present:
        pad = max((max(present) - min(present)) * 0.15, 1.0)
        return float(math.floor(min(present) - pad)), float(math.ceil(max(present) + pad))
    return 0.0, _nice_top(max(present) if present else 0, unit)


def _nice_top(peak: float, unit: str) -> float:
    if unit == Unit.PERCENT:
        return 1.0
    if unit == Unit.SCORE:
        return 10.0
    if peak <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(peak))) / 10
    for factor in (1, 2, 2.5, 5, 10):
        if peak <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _axis_unit(unit: str) -> str:
    return unit if unit in (Unit.PERCENT, Unit.COUNT) else Unit.HOURS
