"""The bulletin's charts: matplotlib figures rendered to inline SVG.

Text stays text in the SVG (`svg.fonttype = none`) so the reader's browser
draws the Chinese labels with its own fonts; matplotlib only measures them,
with a CJK font when one is installed (the project's set-up installs
fonts-noto-cjk). A fixed hash salt and no date make the same data give the
same bytes, so republishing unchanged data changes no checksum.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

CJK_FONTS = ["Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "Source Han Sans SC",
             "Microsoft YaHei", "PingFang SC", "SimHei", "DejaVu Sans"]
RED, GREY, BLUE, GOLD = "#b7282e", "#8c8c8c", "#2f5d8a", "#d4a017"
COUNTY_COLORS = ["#2f5d8a", "#4f8a5b", "#c07a2c"]


@dataclass(frozen=True)
class MonthPoint:
    period: str  # YYYY-MM
    value: float | None
    ytd: float | None
    target: float | None  # the year's target on the plan path


def _plt():
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "svg.fonttype": "none", "svg.hashsalt": "zhongwei-bulletin", "font.family": "sans-serif",
        "font.sans-serif": CJK_FONTS, "font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
        "axes.unicode_minus": False, "figure.dpi": 100,
    })
    return plt


def _svg(fig) -> str:
    buf = io.StringIO()
    with warnings.catch_warnings():  # a machine without a CJK font warns per glyph; the browser still draws them
        warnings.simplefilter("ignore", UserWarning)
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    _plt().close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]  # inline: no XML prolog or doctype


def trend_with_plan(points: list[MonthPoint], title: str, unit_label: str, scale: float) -> str:
    """Monthly values (bars), the year-to-date total (line) and the plan path to the year's target (dashed)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.6, 3.1))
    xs = list(range(len(points)))
    ax.bar(xs, [(p.value or 0) / scale for p in points], color=BLUE, alpha=0.55, width=0.7, label="当月")
    for year in sorted({p.period[:4] for p in points}):
        idx = [i for i, p in enumerate(points) if p.period.startswith(year)]
        ytd = [(points[i].ytd / scale) if points[i].ytd is not None else None for i in idx]
        ax.plot(idx, ytd, color=RED, marker="o", markersize=3, linewidth=1.6,
                label="累计" if year == points[-1].period[:4] else None)
        plan = [points[i].target * int(points[i].period[5:]) / 12 / scale if points[i].target else None for i in idx]
        if any(v is not None for v in plan):
            ax.plot(idx, plan, color=GREY, linestyle="--", linewidth=1.2,
                    label="规划路径(累计)" if year == points[-1].period[:4] else None)
    ax.set_xticks(xs, [p.period[2:4] + "/" + p.period[5:] for p in points], rotation=90, fontsize=7)
    ax.set_ylabel(unit_label)
    ax.set_title(title, fontsize=10, loc="left")
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
    ax.legend(frameon=False, fontsize=8, ncol=3, loc="upper left")
    return _svg(fig)


def county_comparison(panels: list[tuple[str, list[str], list[float], int]]) -> str:
    """Small multiples: one bar chart per (title with unit, county names, values, decimals shown)."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(panels), figsize=(7.6, 2.5))
    for ax, (title, names, values, decimals) in zip(axes, panels):
        bars = ax.bar(names, values, color=COUNTY_COLORS[:len(names)], width=0.6)
        ax.bar_label(bars, labels=[f"{v:,.{decimals}f}" for v in values], fontsize=7, padding=1)
        ax.set_title(title, fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.margins(y=0.18)
    fig.tight_layout()
    return _svg(fig)


def progress_bars(items: list[tuple[str, float | None, float]]) -> str:
    """Progress toward each target: (label, progress as a fraction or None, the expected share by now)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.6, 0.42 * len(items) + 0.8))
    ys = list(range(len(items)))[::-1]
    for y, (label, progress, expected) in zip(ys, items):
        shown = min(progress or 0, 1.5)
        ax.barh(y, 1.5, color="#f1f1f1", height=0.55)
        ax.barh(y, shown, color=RED if (progress or 0) >= expected else GOLD, height=0.55)
        ax.plot([expected, expected], [y - 0.35, y + 0.35], color="#333333", linewidth=1.2)
        ax.text(shown + 0.02, y, "—" if progress is None else f"{progress * 100:.1f}%", va="center", fontsize=8)
    ax.set_yticks(ys, [label for label, _, _ in items], fontsize=8)
    ax.set_xlim(0, 1.65)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5], ["0", "25%", "50%", "75%", "100%", "125%", "≥150%"], fontsize=7)
    ax.plot([], [], color="#333333", linewidth=1.2, label="应达进度(时间进度或目标)")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    ax.spines["left"].set_visible(False)
    return _svg(fig)


def coverage_by_county(names: list[str], coverage: list[float | None], target: float) -> str:
    """Share of administrative villages with express service, per county and for the city."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.6, 2.4))
    values = [(c or 0) * 100 for c in coverage]
    bars = ax.bar(names, values, color=[*COUNTY_COLORS, RED][:len(names)], width=0.55)
    ax.bar_label(bars, labels=["—" if c is None else f"{c * 100:.1f}%" for c in coverage], fontsize=8, padding=1)
    ax.axhline(target * 100, color=GREY, linestyle="--", linewidth=1.1, label=f"目标 {target * 100:.0f}%")
    ax.set_ylim(0, 112)
    ax.set_ylabel("%")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return _svg(fig)
