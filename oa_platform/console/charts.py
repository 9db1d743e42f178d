"""Charts of the console as inline SVG rendered on the server: no JavaScript, no external library, CSP-clean
(colours come from classes in oa.css, not style attributes).

``daily_rate_svg`` is a pure function of its arguments (no ORM, no clock), so it is tested on its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Drawing box in SVG user units; the SVG scales to its container (viewBox + width 100% in oa.css).
WIDTH = 600
HEIGHT = 160
# Room for the axis labels (left: "100%", bottom: the first and last day).
PAD_LEFT = 48
PAD_BOTTOM = 24
PAD_TOP = 12
GRID = (0, 50, 100)  # percent lines drawn across the chart


@dataclass(frozen=True)
class Point:
    label: str  # the day as shown under the chart (already formatted for the language)
    value: float | None  # 0..100; None: nothing to measure that day (drawn as a gap, not as 0)


def daily_rate_svg(points: Sequence[Point], *, title: str, description: str, chart_id: str) -> SafeString:
    """One bar per point (0..100 %), a gap where the value is None, grid lines at 0/50/100 %, the first and
    last labels under the axis. ``role="img"`` with <title> and <desc> (aria-labelledby) for screen readers;
    the page shows the same numbers in a table next to it. Text is escaped; ``chart_id`` must be a plain
    identifier (used in id attributes)."""
    if not chart_id.replace("-", "").replace("_", "").isalnum():
        raise ValueError("chart_id must be letters, digits, - or _")
    n = max(len(points), 1)
    plot_w = WIDTH - PAD_LEFT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / n
    bar_w = max(slot * 0.7, 1.0)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(description)}</desc>',
    ]
    for pct in GRID:
        y = PAD_TOP + plot_h * (1 - pct / 100)
        parts.append(f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{PAD_LEFT - 4}" y="{y + 5:.1f}" text-anchor="end">{pct}%</text>')
    for i, point in enumerate(points):
        if point.value is None:
            continue
        value = min(max(float(point.value), 0.0), 100.0)
        h = plot_h * value / 100
        x = PAD_LEFT + i * slot + (slot - bar_w) / 2
        y = PAD_TOP + plot_h - h
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}">'
            f"<title>{escape(point.label)}: {value:.0f}%</title></rect>"
        )
    if points:
        base = HEIGHT - 5
        parts.append(f'<text class="axis" x="{PAD_LEFT}" y="{base}">{escape(points[0].label)}</text>')
        parts.append(f'<text class="axis" x="{WIDTH}" y="{base}" text-anchor="end">{escape(points[-1].label)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped, every number formatted here
