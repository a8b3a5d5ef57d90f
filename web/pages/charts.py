"""Charts drawn on the server as inline SVG: no script, no CDN, readable on a 360-px phone.

Each function returns markup whose ``viewBox`` fixes the drawing's proportions and whose width is
100 %, so it scales to the screen; colours come from the classes in jiuye.css.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 360  # viewBox units: one unit is one CSS pixel on the narrowest phone
ROW = 22
LABEL_W = 96
VALUE_W = 64


def _svg(height: float, title: str, body: str) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{body}</svg>'
    )


def _short(label: str, limit: int = 7) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(items: Sequence[tuple[str, int]], title: str) -> Markup:
    """Horizontal bars, one per (label, value); long lists stay legible on a phone."""
    top = max((value for _, value in items), default=0) or 1
    span = WIDTH - LABEL_W - VALUE_W
    parts = []
    for i, (label, value) in enumerate(items):
        y = i * ROW
        length = span * value / top
        parts.append(
            f'<text class="chart-label" x="{LABEL_W - 4}" y="{y + 15}" text-anchor="end">'
            f"{escape(_short(label))}</text>"
            f'<rect class="chart-bar" x="{LABEL_W}" y="{y + 4}" width="{length:.1f}" height="{ROW - 8}"/>'
            f'<text class="chart-value" x="{LABEL_W + length + 4:.1f}" y="{y + 15}">{value:,}</text>'
        )
    return _svg(max(1, len(items)) * ROW + 4, title, "".join(parts))


def line_chart(points: Sequence[tuple[str, int]], title: str) -> Markup:
    """A time line of (label, value) points, with the first, last, lowest and highest labelled."""
    height, left, right, top_pad, bottom = 180, 8, 8, 20, 28
    if not points:
        return _svg(40, title, "")
    values = [value for _, value in points]
    low, high = min(values), max(values)
    spread = (high - low) or 1
    plot_w, plot_h = WIDTH - left - right, height - top_pad - bottom
    step = plot_w / max(1, len(points) - 1)

    def x(i: int) -> float:
        return left + i * step

    def y(value: int) -> float:
        return top_pad + plot_h * (1 - (value - low) / spread)

    path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    parts = [
        f'<line class="chart-axis" x1="{left}" y1="{height - bottom}" x2="{WIDTH - right}" y2="{height - bottom}"/>',
        f'<polyline class="chart-line" fill="none" points="{path}"/>',
    ]
    for i, v in enumerate(values):
        parts.append(f'<circle class="chart-dot" cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5"/>')
    marked = {0, len(values) - 1, values.index(low), values.index(high)}
    for i in sorted(marked):
        anchor = "start" if i == 0 else "end" if i == len(values) - 1 else "middle"
        parts.append(
            f'<text class="chart-value" x="{x(i):.1f}" y="{y(values[i]) - 6:.1f}" '
            f'text-anchor="{anchor}">{values[i]:,}</text>'
        )
    for i in (0, len(points) - 1):
        anchor = "start" if i == 0 else "end"
        parts.append(
            f'<text class="chart-label" x="{x(i):.1f}" y="{height - 8}" text-anchor="{anchor}">'
            f"{escape(points[i][0])}</text>"
        )
    return _svg(height, title, "".join(parts))
