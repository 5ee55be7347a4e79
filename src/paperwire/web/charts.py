"""Chart data for templates: one shape for every chart on the site.

A chart is drawn in the browser by ``static/charts.js`` (vendored uPlot) from
the JSON in its ``data-chart`` attribute, and is also a plain table in the
page, so it reads without JavaScript and to screen readers. Sparklines are
small inline SVG polylines drawn here: a dozen of them on the home page need
no script at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Chart:
    """Counts per period (period starts, oldest first), ready for ``_charts.html``."""

    title: str
    period: str  # "week" | "month" | "year": how the x labels read
    points: list[tuple[date, int]]

    @property
    def total(self) -> int:
        return sum(count for _, count in self.points)

    @property
    def peak(self) -> int:
        return max((count for _, count in self.points), default=0)

    def data(self) -> dict:
        """What charts.js reads: ISO days and counts (the template serialises it with ``tojson``)."""
        return {"title": self.title, "period": self.period,
                "x": [day.isoformat() for day, _ in self.points], "y": [count for _, count in self.points]}

    def label(self, day: date) -> str:
        """A period as people read it in the table: "Nov 3, 2025" (week of) or "Nov 2025"."""
        if self.period == "year":
            return str(day.year)
        return day.strftime("%b %Y") if self.period == "month" else day.strftime("%b %-d, %Y")


def trimmed(points: list[tuple[date, int]], *, keep: int) -> list[tuple[date, int]]:
    """The last ``keep`` periods, without the empty ones before the first count: a topic
    born last month gets a chart of last month, not of the corpus' twenty years."""
    points = points[-keep:]
    first = next((i for i, (_, count) in enumerate(points) if count), len(points))
    return points[first:]


def sparkline_points(series: Sequence[int], *, width: int = 80, height: int = 20, pad: int = 2) -> str:
    """SVG ``points`` for a polyline of ``series`` scaled into width × height (zero at the bottom)."""
    values = list(series)
    if not values:
        return ""
    top = max(values) or 1
    step = (width - 2 * pad) / max(1, len(values) - 1)
    return " ".join(
        f"{pad + i * step:.1f},{height - pad - (v / top) * (height - 2 * pad):.1f}" for i, v in enumerate(values)
    )
