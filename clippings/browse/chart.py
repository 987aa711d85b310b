"""The coverage chart as a standalone SVG: articles per publication day, stacked by outlet, with
a y-axis of counts, dated ticks, a tooltip per bar and a legend. The articles page shows this
very file, so what a researcher saves is what they saw.

Every text in it is escaped (markupsafe); outlet names come from the topic file, days from pages.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass

from markupsafe import escape

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")
OTHER_OUTLETS = "other outlets"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WIDTH, PLOT_HEIGHT = 900, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 36, 44  # margins around the plot: axis labels, title, date ticks
LEGEND_ROW, LEGEND_COLUMN = 20, 220
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"'


@dataclass(frozen=True)
class DayCount:
    """Articles one outlet published on one day."""

    day: str  # YYYY-MM-DD
    outlet: str
    articles: int


def coverage_svg(counts: list[DayCount], title: str) -> str:
    """The chart of `counts` (a day may have several outlets) as an SVG document."""
    if not counts:
        return _empty(title)
    series, stacks = _stacks(counts)
    days = _days(min(c.day for c in counts), max(c.day for c in counts))
    peak = max(sum(n for _, n in stacks[day]) for day in days if stacks[day]) if stacks else 0
    ticks = count_ticks(peak)
    legend_rows = math.ceil(len(series) / ((WIDTH - LEFT) // LEGEND_COLUMN))
    height = TOP + PLOT_HEIGHT + BOTTOM + legend_rows * LEGEND_ROW + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'role="img" aria-labelledby="clippings-chart-title" class="clippings-chart" {FONT} font-size="13">',
        f'<title id="clippings-chart-title">{escape(title)}</title>',
        f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>',
        f'<text x="{LEFT}" y="20" font-size="14" font-weight="bold">{escape(title)}</text>',
        *_y_axis(ticks),
        *_bars(days, stacks, series, ticks[-1]),
        *_x_axis(days),
        *_legend(series, counts, TOP + PLOT_HEIGHT + BOTTOM),
        "</svg>",
    ]
    return "\n".join(parts)


def count_ticks(peak: int) -> list[int]:
    """0 up to a round number at or above `peak`, in at most five steps of 1, 2 or 5 times a power of ten."""
    step = 1
    while math.ceil(peak / step) > 5:
        step = _next_step(step)
    top = max(step, math.ceil(peak / step) * step)
    return list(range(0, top + 1, step))


def _next_step(step: int) -> int:
    """1, 2, 5, 10, 20, 50, ..."""
    digits = str(step)
    return step * 5 // 2 if digits[0] == "2" else step * 2


def date_ticks(first: dt.date, last: dt.date) -> list[dt.date]:
    """Days to label along the x-axis: every day, Mondays, the 1st of each month or of each year,
    whichever gives at most about a dozen labels."""
    days = [first + dt.timedelta(n) for n in range((last - first).days + 1)]
    for keep in (
        lambda d: True,
        lambda d: d.weekday() == 0,
        lambda d: d.day in (1, 15),
        lambda d: d.day == 1,
        lambda d: d.day == 1 and d.month in (1, 4, 7, 10),
        lambda d: d.day == 1 and d.month == 1,
    ):
        chosen = [d for d in days if keep(d)]
        if len(chosen) <= 12:
            return chosen or [first]
    return [first]


def date_labels(ticks: list[dt.date]) -> list[str]:
    """ "16 Oct", or "Nov" when every tick is a month's first day; with the year at the first
    label and where the year changes."""
    monthly = len(ticks) > 1 and all(day.day == 1 for day in ticks)
    labels, previous = [], None
    for day in ticks:
        label = MONTHS[day.month - 1] if monthly else f"{day.day} {MONTHS[day.month - 1]}"
        labels.append(f"{label} {day.year}" if previous is None or previous.year != day.year else label)
        previous = day
    return labels


def _stacks(counts: list[DayCount]) -> tuple[list[str], dict[str, list[tuple[int, int]]]]:
    """The outlets drawn (the nine biggest, then the rest as one) and, per day, (series, count) pairs."""
    totals: dict[str, int] = defaultdict(int)
    for c in counts:
        totals[c.outlet] += c.articles
    ranked = sorted(totals, key=lambda outlet: (-totals[outlet], outlet))
    shown = ranked if len(ranked) <= len(PALETTE) else ranked[: len(PALETTE) - 1]
    series = shown + ([OTHER_OUTLETS] if len(ranked) > len(shown) else [])
    index = {outlet: series.index(outlet) if outlet in shown else len(series) - 1 for outlet in ranked}
    per_day: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for c in counts:
        per_day[c.day][index[c.outlet]] += c.articles
    stacks: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for day, by_series in per_day.items():
        stacks[day] = sorted(by_series.items())
    return series, stacks


def _days(first: str, last: str) -> list[str]:
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [(start + dt.timedelta(n)).isoformat() for n in range((end - start).days + 1)]


def _y(count: float, top: int) -> float:
    return TOP + PLOT_HEIGHT - count / top * PLOT_HEIGHT


def _y_axis(ticks: list[int]) -> list[str]:
    top = ticks[-1]
    parts = [
        f'<text transform="translate(14 {TOP + PLOT_HEIGHT / 2:.1f}) rotate(-90)" text-anchor="middle" '
        f'fill="#444">articles per day</text>'
    ]
    for tick in ticks:
        y = _y(tick, top)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        parts.append(f'<text class="clippings-y-tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#444">{tick}</text>')
    return parts


def _bars(days: list[str], stacks: dict[str, list[tuple[int, int]]], series: list[str], top: int) -> list[str]:
    width = (WIDTH - LEFT - RIGHT) / len(days)
    parts = []
    for i, day in enumerate(days):
        below = 0
        for index, count in stacks.get(day, []):
            x, y, h = LEFT + i * width, _y(below + count, top), count / top * PLOT_HEIGHT
            label = f"{day} · {series[index]}: {count} article{'s' if count != 1 else ''}"
            parts.append(
                f'<rect x="{x + 0.5:.2f}" y="{y:.2f}" width="{max(width - 1, 1):.2f}" height="{h:.2f}" '
                f'fill="{PALETTE[index]}" tabindex="0" data-day="{day}" data-outlet="{escape(series[index])}" '
                f'data-count="{count}"><title>{escape(label)}</title></rect>'
            )
            below += count
    return parts


def _x_axis(days: list[str]) -> list[str]:
    first, last = dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])
    width = (WIDTH - LEFT - RIGHT) / len(days)
    baseline = TOP + PLOT_HEIGHT
    parts = [f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{baseline}" y2="{baseline}" stroke="#666"/>']
    ticks = date_ticks(first, last)
    for day, label in zip(ticks, date_labels(ticks)):
        x = LEFT + ((day - first).days + 0.5) * width
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{baseline}" y2="{baseline + 5}" stroke="#666"/>')
        parts.append(
            f'<text class="clippings-x-tick" x="{x:.1f}" y="{baseline + 18}" text-anchor="middle" fill="#444">{label}</text>'
        )
    return parts


def _legend(series: list[str], counts: list[DayCount], top: float) -> list[str]:
    totals: dict[str, int] = defaultdict(int)
    for c in counts:
        totals[c.outlet] += c.articles
    shown = set(series) - {OTHER_OUTLETS}
    per_row = (WIDTH - LEFT) // LEGEND_COLUMN
    parts = []
    for n, name in enumerate(series):
        total = sum(v for k, v in totals.items() if k not in shown) if name == OTHER_OUTLETS else totals[name]
        x, y = LEFT + (n % per_row) * LEGEND_COLUMN, top + (n // per_row) * LEGEND_ROW
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{PALETTE[n]}"/>')
        parts.append(f'<text x="{x + 17}" y="{y + 10}">{escape(name)} ({total})</text>')
    return parts


def _empty(title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} 60" width="{WIDTH}" height="60" '
        f'role="img" class="clippings-chart" {FONT} font-size="12"><title>{escape(title)}</title>'
        f'<rect width="{WIDTH}" height="60" fill="#fff"/>'
        f'<text x="{LEFT}" y="34">No dated articles match.</text></svg>'
    )
