"""The dashboard's charts as plain SVG text: small pure functions over plain numbers (no
front-end library, nothing to download; the page works offline)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

COLOURS = {
    "negative": "#d64545",
    "neutral": "#9aa5b1",
    "positive": "#3f9142",
    "unscored": "#d9dee3",
}
LABELS = ("negative", "neutral", "positive", "unscored")


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def sparkline(values: Sequence[float | None], width: int = 120, height: int = 28) -> str:
    """A line through the values present (gaps break it); empty when fewer than two."""
    present = [v for v in values if v is not None]
    if len(values) < 2 or not present:
        return ""
    low, high = min(present), max(present)
    span = (high - low) or 1.0
    step = width / (len(values) - 1)
    runs: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            runs.append([])
            continue
        y = height - 2 - (v - low) / span * (height - 4)
        runs[-1].append(f"{_num(i * step)},{_num(y)}")
    lines = "".join(
        f'<polyline points="{" ".join(r)}" fill="none" stroke="currentColor" stroke-width="1.5"/>'
        for r in runs
        if len(r) > 1
    )
    dots = "".join(
        f'<circle cx="{r[0].split(",")[0]}" cy="{r[0].split(",")[1]}" r="1.5" fill="currentColor"/>'
        for r in runs
        if len(r) == 1
    )
    return (
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' role="img" aria-label="trend">{lines}{dots}</svg>'
    )


def _axis_labels(labels: Sequence[str], step: float, height: int, every: int) -> str:
    return "".join(
        f'<text x="{_num(i * step + step / 2)}" y="{height + 12}" text-anchor="middle">'
        f"{escape(label)}</text>"
        for i, label in enumerate(labels)
        if i % every == 0
    )


def stacked_bars(buckets: Sequence[Mapping[str, Any]], width: int = 360, height: int = 120) -> str:
    """Volume per bucket stacked by sentiment label; a spike bucket gets a ▲ above its bar."""
    if not buckets:
        return ""
    top = max(int(b["n"]) for b in buckets) or 1
    step = width / len(buckets)
    bar = max(step * 0.8, 1.0)
    every = max(1, len(buckets) // 8)
    parts = []
    for i, b in enumerate(buckets):
        x = i * step + (step - bar) / 2
        y = float(height)
        tip = f"{b['label']}: {b['n']} signals"
        for label in LABELS:
            h = int(b[label]) / top * (height - 14)
            if h <= 0:
                continue
            y -= h
            parts.append(
                f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(bar)}" height="{_num(h)}"'
                f' fill="{COLOURS[label]}"><title>{escape(tip)} · {label} {b[label]}</title></rect>'
            )
        if b.get("spike"):
            parts.append(
                f'<text class="spike" x="{_num(x + bar / 2)}" y="{_num(y - 2)}"'
                f' text-anchor="middle">▲<title>spike of negatives</title></text>'
            )
    return (
        f'<svg class="chart" viewBox="0 -2 {width} {height + 16}" role="img"'
        f' aria-label="volume by sentiment">{"".join(parts)}'
        f"{_axis_labels([str(b['label']) for b in buckets], step, height, every)}</svg>"
    )


def trend_line(
    points: Sequence[Mapping[str, Any]],
    low: float,
    high: float,
    width: int = 360,
    height: int = 90,
) -> str:
    """A metric per bucket on a fixed scale; buckets with too few answers are grey dots off
    the line, so a swing on three answers does not read as a trend."""
    if not points:
        return ""
    step = width / len(points)
    span = (high - low) or 1.0

    def y(v: float) -> float:
        return height - (min(max(v, low), high) - low) / span * height

    line, dots = [], []
    for i, p in enumerate(points):
        if p["value"] is None:
            continue
        cx, cy = i * step + step / 2, y(float(p["value"]))
        tip = f"{p['label']}: {p['value']:.0f} (n={p['n']})"
        if p["grey"]:
            dots.append(
                f'<circle class="grey" cx="{_num(cx)}" cy="{_num(cy)}" r="3" fill="#c4c9cf">'
                f"<title>{escape(tip)} · fewer than 10 answers</title></circle>"
            )
        else:
            line.append(f"{_num(cx)},{_num(cy)}")
            dots.append(
                f'<circle cx="{_num(cx)}" cy="{_num(cy)}" r="3" fill="#2b6cb0">'
                f"<title>{escape(tip)}</title></circle>"
            )
    zero = (
        f'<line x1="0" x2="{width}" y1="{_num(y(0))}" y2="{_num(y(0))}" stroke="#e1e4e8"/>'
        if low < 0 < high
        else ""
    )
    path = (
        f'<polyline points="{" ".join(line)}" fill="none" stroke="#2b6cb0" stroke-width="2"/>'
        if len(line) > 1
        else ""
    )
    every = max(1, len(points) // 8)
    return (
        f'<svg class="chart" viewBox="0 -4 {width} {height + 20}" role="img" aria-label="trend">'
        f"{zero}{path}{''.join(dots)}"
        f"{_axis_labels([str(p['label']) for p in points], step, height, every)}</svg>"
    )


def heat(n: int, top: int) -> str:
    """A cell's background: stronger blue for more signals."""
    alpha = 0.08 + 0.72 * (n / top) if top else 0.0
    return f"background: rgba(43, 108, 176, {alpha:.2f})"
