"""The digest's picture: daily volume (stacked by sentiment label) and mean sentiment over the
last 4 weeks, as PNG bytes. Optional: it needs matplotlib (`pip install 'cxbot[chart]'`); without
it `chart_png` logs once and returns None, and the digest goes out as text alone.
"""

from __future__ import annotations

import importlib
import io
import logging
import re
from types import ModuleType

from cxbot.digest.build import Digest
from cxbot.metrics import METRICS

log = logging.getLogger("cxbot.digest")

COLORS = {"negative": "#d64545", "neutral": "#b8b8b8", "positive": "#3f9c5a", "unscored": "#e8e8e8"}
_warned = False


def _modules() -> tuple[ModuleType, ModuleType] | None:
    # Imported by name at run time: matplotlib is an optional extra, so neither the package nor
    # `mypy cxbot` may depend on it being installed. Figure + the Agg canvas, never pyplot:
    # pyplot keeps global state and is not safe off the main thread, where the chart is drawn.
    global _warned
    try:
        return (
            importlib.import_module("matplotlib.figure"),
            importlib.import_module("matplotlib.backends.backend_agg"),
        )
    except ImportError:
        if not _warned:
            log.warning("digest chart skipped: matplotlib is not installed (cxbot[chart])")
            _warned = True
        return None


def chart_name(digest: Digest, channel: str | None) -> tuple[str, str]:
    """(filename, title) of the upload."""
    slug = re.sub(r"[^a-z0-9]+", "-", (channel or "").lower()).strip("-")
    filename = f"cx-digest-{digest.data.window.period}" + (f"-{slug}" if slug else "") + ".png"
    days = digest.data.daily
    span = f", {days[0][0]:%d %b} – {days[-1][0]:%d %b %Y}" if days else ""
    return filename, f"Daily volume and sentiment{span}"


def chart_png(digest: Digest) -> bytes | None:
    """PNG bytes, or None when matplotlib is missing or there is nothing to draw."""
    days = digest.data.daily
    if not any(c.n for _, c in days):
        return None
    modules = _modules()
    if modules is None:
        return None
    figure_module, agg = modules
    fig = figure_module.Figure(figsize=(10, 4), dpi=100)
    agg.FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = list(range(len(days)))
    bottom = [0] * len(days)
    for label in ("negative", "neutral", "positive", "unscored"):
        heights = [getattr(c, label) for _, c in days]
        ax.bar(x, heights, bottom=bottom, color=COLORS[label], label=label, width=0.8)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    # The digest's own week, shaded: the last 7 of the 28 days for a complete week.
    week_start = digest.data.window.start.astimezone(digest.data.window.tz).date()
    first = next((i for i, (d, _) in enumerate(days) if d >= week_start), len(days))
    ax.axvspan(first - 0.5, len(days) - 0.5, color="#eef3fb", zorder=0)
    ax.set_ylim(0, max(bottom) * 1.3 or 1)  # headroom above the bars for the legend
    ax.set_ylabel("signals per day")
    ax.set_xticks(x[::7], [f"{d:%a %d %b}" for d, _ in days[::7]])
    ax.set_xlim(-0.6, len(days) - 0.4)
    mood = ax.twinx()
    values = [METRICS["sentiment"].value(c) for _, c in days]
    mood.plot(
        [i for i, v in zip(x, values, strict=True) if v is not None],
        [v for v in values if v is not None],
        color="#1f4e99",
        marker="o",
        markersize=3,
        linewidth=1.5,
        label="mean sentiment",
    )
    mood.axhline(0, color="#1f4e99", linewidth=0.5, linestyle=":")
    mood.set_ylim(-1, 1)
    mood.set_ylabel("mean sentiment (−1…1)")
    handles = ax.get_legend_handles_labels()[0] + mood.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left", fontsize=8, ncols=5, frameon=False)
    ax.set_title(chart_name(digest, None)[1], fontsize=11, loc="left")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
