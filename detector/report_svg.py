"""Inline SVG charts for the audit report.

The report must open offline, years later, from a records request folder: no
script, no web fonts, no chart library fetched at view time. Two chart shapes cover
every figure in it, so they are drawn here directly instead of through a plotting
stack (altair needs vl-convert to render offline; matplotlib is not a dependency).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

PALETTE = ("#2b6cb0", "#dd6b20", "#6b46c1", "#2f855a", "#c53030", "#718096")
FONT = "font-family='system-ui, sans-serif' font-size='12'"

Formatter = Callable[[float], str]


def count(value: float) -> str:
    return f"{value:,.0f}"


def percent(value: float) -> str:
    if 0 < value < 0.0005:
        return "<0.1%"
    return f"{value:.0%}" if value >= 0.1 or value == 0 else f"{value:.1%}"


def _open(width: int, height: int, title: str) -> str:
    t = escape(title)
    return (f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' role='img' aria-label='{t}' "
            f"viewBox='0 0 {width} {height}' width='{width}' height='{height}' {FONT}><title>{t}</title>")


def _legend(names: Sequence[str], x: float, y: float) -> str:
    parts = []
    for i, name in enumerate(names):
        parts.append(f"<rect x='{x:.1f}' y='{y - 9:.1f}' width='10' height='10' fill='{PALETTE[i % len(PALETTE)]}'/>"
                     f"<text x='{x + 14:.1f}' y='{y:.1f}'>{escape(name)}</text>")
        x += 24 + 7 * len(name)
    return "".join(parts)


def bar_chart(labels: Sequence[str], series: dict[str, Sequence[float]], title: str,
              fmt: Formatter = count, width: int = 900) -> str:
    """Horizontal bars, one group per label and one bar per series (e.g. before and after)."""
    names = list(series)
    bar, gap, label_w, top = 14, 10, 220, 26 if len(names) > 1 else 8
    group = bar * len(names) + gap
    height = top + group * len(labels) + 6
    peak = max((v for vs in series.values() for v in vs), default=0) or 1
    plot_w = width - label_w - 70
    out = [_open(width, height, title)]
    if len(names) > 1:
        out.append(_legend(names, label_w, 14))
    for i, label in enumerate(labels):
        y = top + i * group
        out.append(f"<text x='{label_w - 6}' y='{y + bar * len(names) / 2 + 4:.1f}' text-anchor='end'>{escape(label)}</text>")
        for j, name in enumerate(names):
            v = float(series[name][i])
            w = plot_w * v / peak
            yy = y + j * bar
            out.append(f"<rect x='{label_w}' y='{yy}' width='{w:.1f}' height='{bar - 2}' fill='{PALETTE[j % len(PALETTE)]}'>"
                       f"<title>{escape(label)}, {escape(name)}: {fmt(v)}</title></rect>"
                       f"<text x='{label_w + w + 4:.1f}' y='{yy + bar - 4}' fill='#333'>{fmt(v)}</text>")
    out.append("</svg>")
    return "".join(out)


def _ticks(peak: float, n: int = 4) -> list[float]:
    """Round axis steps (1, 2, 2.5 or 5 times a power of ten) from 0 to the first at or above ``peak``."""
    if peak <= 0:
        return [0.0]
    raw = peak / n
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [step * k for k in range(n + 2) if step * (k - 1) < peak]


def line_chart(periods: Sequence[str], series: dict[str, Sequence[float]], title: str, fmt: Formatter = count,
               marker: tuple[int, str] | None = None, width: int = 900, height: int = 260) -> str:
    """Lines over time periods, with an optional labelled marker line at a period index."""
    left, right, top, bottom = 64, 44, 26, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(periods)
    peak = max((v for vs in series.values() for v in vs), default=0)
    ticks = _ticks(peak)
    ymax = max(ticks[-1], peak) or 1

    def x(i: float) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / ymax

    out = [_open(width, height, title), _legend(list(series), left, 14)]
    for t in ticks:
        out.append(f"<line x1='{left}' x2='{width - right}' y1='{y(t):.1f}' y2='{y(t):.1f}' stroke='#e2e8f0'/>"
                   f"<text x='{left - 6}' y='{y(t) + 4:.1f}' text-anchor='end' fill='#555'>{fmt(t)}</text>")
    every = max(1, -(-n // 8))
    for i in range(0, n, every):
        out.append(f"<text x='{x(i):.1f}' y='{height - bottom + 16}' text-anchor='middle' fill='#555'>{escape(periods[i])}</text>")
    if marker is not None:
        mx = x(marker[0])
        out.append(f"<line x1='{mx:.1f}' x2='{mx:.1f}' y1='{top}' y2='{top + plot_h}' stroke='#c53030' stroke-dasharray='4 3'/>"
                   f"<text x='{mx + 4:.1f}' y='{top + 12}' fill='#c53030'>{escape(marker[1])}</text>")
    for j, (name, values) in enumerate(series.items()):
        color = PALETTE[j % len(PALETTE)]
        points = " ".join(f"{x(i):.1f},{y(float(v)):.1f}" for i, v in enumerate(values))
        if n == 1:
            out.append(f"<circle cx='{x(0):.1f}' cy='{y(float(values[0])):.1f}' r='3' fill='{color}'/>")
        out.append(f"<polyline points='{points}' fill='none' stroke='{color}' stroke-width='1.8'>"
                   f"<title>{escape(name)}</title></polyline>")
    out.append(f"<line x1='{left}' x2='{width - right}' y1='{top + plot_h}' y2='{top + plot_h}' stroke='#999'/></svg>")
    return "".join(out)
