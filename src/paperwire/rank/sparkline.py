"""Unicode sparklines ("▁▂▃▅█") for counts per period in the terminal and in text mail."""

from __future__ import annotations

from collections.abc import Sequence

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[int | float]) -> str:
    """One bar per value, scaled to the largest; zero is a blank-looking lowest bar
    only when everything is zero, else a space, so empty periods read as gaps."""
    if not values:
        return ""
    top = max(values)
    if top <= 0:
        return BARS[0] * len(values)
    out = []
    for v in values:
        if v <= 0:
            out.append(" ")
        else:
            out.append(BARS[min(len(BARS) - 1, max(0, round((v / top) * (len(BARS) - 1))))])
    return "".join(out)
