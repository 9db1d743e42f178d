"""Bar charts of a round's counts as SVG, drawn on the server (the template writes the shapes; no script, no
inline style). Pure: takes the results of selectors.round_results."""

from __future__ import annotations

# Geometry of one chart, in SVG user units (the SVG scales to its container's width).
WIDTH = 600
LABEL_WIDTH = 200  # the option's label, left of its bar
COUNT_WIDTH = 100  # the count and its percent, right of the bar: "1234 (100%)" at 13px
ROW_HEIGHT = 28
BAR_HEIGHT = 18


def bar_chart(counts: list[dict]) -> dict | None:
    """{"width", "height", "rows": [{"label", "count", "percent", "y", "bar_y", "text_y", "width", "x"}]} for
    a question's counts, or None when it has nothing to chart (text, date, phone questions)."""
    if not counts:
        return None
    most = max((c["count"] for c in counts), default=0) or 1
    total = sum(c["count"] for c in counts) or 1
    span = WIDTH - LABEL_WIDTH - COUNT_WIDTH
    rows = []
    for index, item in enumerate(counts):
        y = index * ROW_HEIGHT
        rows.append(
            {
                "label": item["label"][:40],
                "count": item["count"],
                "percent": round(100 * item["count"] / total),
                "x": LABEL_WIDTH,
                "bar_y": y + (ROW_HEIGHT - BAR_HEIGHT) // 2,
                "text_y": y + ROW_HEIGHT // 2 + 5,
                "width": round(span * item["count"] / most, 1),
                "count_x": LABEL_WIDTH + round(span * item["count"] / most, 1) + 6,
            }
        )
    return {"width": WIDTH, "height": len(rows) * ROW_HEIGHT, "bar_height": BAR_HEIGHT, "rows": rows}
