"""A bar chart of a daily series, laid out on the server and drawn as inline SVG by the template.

No chart library: the page stays a few kilobytes, paints on the first response (no script
between the HTML and the picture, so nothing moves after load) and works without JavaScript.
Coordinates are in the SVG's own units (`viewBox`); the SVG scales to the card's width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 720, 180
LEFT, BOTTOM, TOP = 36, 22, 8  # room for the y labels, the x labels and the top tick


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: str
    label: str
    value: int


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class XLabel:
    x: float
    text: str
    anchor: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    plot_bottom: float
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[XLabel]
    total: int
    peak: int
    days: int


def _nice_max(peak: int) -> int:
    """A round top for the axis (1, 2 or 5 times a power of ten) at or above `peak` (at
    least 4, so that small counts do not fill the chart)."""
    peak = max(peak, 4)
    magnitude = 10 ** math.floor(math.log10(peak))
    for step in (1, 2, 5, 10):
        if step * magnitude >= peak:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def _day_label(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day:%b} {day.day}"


def daily_bars(series: list[dict[str, object]]) -> Chart:
    """Lay out `series` (`{"date": "YYYY-MM-DD", "signups": n}`, oldest first) as bars."""
    values = [int(str(point["signups"])) for point in series]
    days = len(values)
    top = _nice_max(max(values, default=0))
    plot_width = WIDTH - LEFT
    plot_height = HEIGHT - BOTTOM - TOP
    slot = plot_width / max(days, 1)
    gap = min(2.0, slot * 0.2)
    bars = []
    for index, (point, value) in enumerate(zip(series, values, strict=True)):
        height = plot_height * value / top
        day = str(point["date"])
        bars.append(Bar(
            x=round(LEFT + index * slot + gap / 2, 2), y=round(TOP + plot_height - height, 2),
            width=round(slot - gap, 2), height=round(height, 2), day=day,
            label=_day_label(day), value=value,
        ))
    ticks = [Tick(y=round(TOP + plot_height * (1 - fraction), 2), value=round(top * fraction))
             for fraction in (0, 0.5, 1)]
    labels = []
    if bars:
        middle = bars[days // 2]
        labels = [XLabel(x=bars[0].x, text=bars[0].label, anchor="start"),
                  XLabel(x=middle.x + middle.width / 2, text=middle.label, anchor="middle"),
                  XLabel(x=bars[-1].x + bars[-1].width, text=bars[-1].label, anchor="end")]
    return Chart(width=WIDTH, height=HEIGHT, left=LEFT, plot_bottom=TOP + plot_height,
                 bars=bars, ticks=ticks, labels=labels, total=sum(values),
                 peak=max(values, default=0), days=days)
