"""One chart definition for a metric's trend: an SVG drawn here, shown by the dashboard page and embedded
as is by the PDF reports (no JavaScript, no font or script loaded from the internet; Chinese labels)."""

from __future__ import annotations

from html import escape

from crm.analytics.dashboard import Trend
from crm.analytics.metrics import Unit, display

WIDTH, HEIGHT = 720, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 36, 44
FONT = "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"


def trend_svg(trend: Trend, *, lang: str = "zh", width: int = WIDTH, height: int = HEIGHT) -> str:
    """A line chart of `trend`: one point per week or month, gaps where there was nothing to count."""
    values = [p.value for p in trend.points]
    present = [v for v in values if v is not None]
    top = _nice_top(max(present) if present else 0, trend.unit)
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    step = plot_w / max(len(values) - 1, 1)

    def x(i: int) -> float:
        return _LEFT + i * step

    def y(v: float) -> float:
        return _TOP + plot_h - (v / top * plot_h if top else 0)

    title = f"{trend.scope_name} · {trend.label_en if lang == 'en' else trend.label_zh}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" class="trend-chart" font-family="{escape(FONT)}" font-size="11">',
        f'<text x="{_LEFT}" y="20" font-size="14" fill="#1f2937">{escape(title)}</text>',
    ]
    for k in range(5):
        value = top * k / 4
        parts.append(f'<line x1="{_LEFT}" x2="{width - _RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     f'stroke="#e5e7eb"/>')
        parts.append(f'<text x="{_LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" fill="#6b7280">'
                     f'{escape(display(value, _axis_unit(trend.unit)))}</text>')
    every = max(1, len(values) // 12)
    for i, point in enumerate(trend.points):
        if i % every == 0:
            parts.append(f'<text x="{x(i):.1f}" y="{height - _BOTTOM + 16}" text-anchor="middle" fill="#6b7280">'
                         f'{escape(point.label)}</text>')
    for run in _runs(values):
        coords = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in run)
        parts.append(f'<polyline points="{coords}" fill="none" stroke="#2563eb" stroke-width="2"/>')
    for i, v in enumerate(values):
        if v is not None:
            label = f"{trend.points[i].label}: {display(v, trend.unit)}"
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="#2563eb"><title>{escape(label)}'
                         f'</title></circle>')
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
