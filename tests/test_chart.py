"""The coverage chart's SVG (clippings.browse.chart): axes, ticks, bars, tooltips, legend, escaping."""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from clippings.browse.chart import DayCount, count_ticks, coverage_svg, date_labels, date_ticks

SVG = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element, css_class: str) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text") if t.get("class") == css_class]


@pytest.mark.parametrize(
    "peak, ticks",
    [
        (0, [0, 1]),
        (1, [0, 1]),
        (5, [0, 1, 2, 3, 4, 5]),
        (7, [0, 2, 4, 6, 8]),
        (12, [0, 5, 10, 15]),
        (33, [0, 10, 20, 30, 40]),
        (140, [0, 50, 100, 150]),
        (999, [0, 200, 400, 600, 800, 1000]),
    ],
)
def test_count_ticks_are_round_and_reach_the_peak(peak, ticks):
    assert count_ticks(peak) == ticks


@pytest.mark.parametrize(
    "first, last, labels",
    [
        ("2017-10-01", "2017-10-05", ["1 Oct 2017", "2 Oct", "3 Oct", "4 Oct", "5 Oct"]),
        ("2017-10-01", "2017-11-10", ["2 Oct 2017", "9 Oct", "16 Oct", "23 Oct", "30 Oct", "6 Nov"]),
        ("2017-10-01", "2017-12-31", ["1 Oct 2017", "15 Oct", "1 Nov", "15 Nov", "1 Dec", "15 Dec"]),
        ("2017-08-01", "2018-06-30", ["Aug 2017", "Sep", "Oct", "Nov", "Dec", "Jan 2018", "Feb", "Mar", "Apr", "May", "Jun"]),
        ("2016-11-01", "2018-03-01", ["Jan 2017", "Apr", "Jul", "Oct", "Jan 2018"]),
    ],
)
def test_date_ticks_are_few_and_readable(first, last, labels):
    assert date_labels(date_ticks(dt.date.fromisoformat(first), dt.date.fromisoformat(last))) == labels


COUNTS = [DayCount("2017-10-16", "The Gazette", 3), DayCount("2017-10-16", "Wire", 1), DayCount("2017-10-20", "Wire", 2)]


def test_chart_has_a_y_axis_with_counts():
    root = parsed(coverage_svg(COUNTS, "Articles"))
    assert texts(root, "clippings-y-tick") == ["0", "1", "2", "3", "4"]
    assert any(t.text == "articles per day" for t in root.iter(f"{SVG}text"))


def test_chart_has_one_bar_per_day_and_outlet_with_its_tooltip():
    bars = [r for r in parsed(coverage_svg(COUNTS, "Articles")).iter(f"{SVG}rect") if r.get("data-count")]
    assert sorted((b.get("data-day"), b.get("data-outlet"), int(b.get("data-count"))) for b in bars) == sorted(
        (c.day, c.outlet, c.articles) for c in COUNTS
    )
    assert {b.find(f"{SVG}title").text for b in bars} == {
        "2017-10-16 · The Gazette: 3 articles",
        "2017-10-16 · Wire: 1 article",
        "2017-10-20 · Wire: 2 articles",
    }


def test_chart_bars_stack_to_the_day_total():
    bars = [r for r in parsed(coverage_svg(COUNTS, "Articles")).iter(f"{SVG}rect") if r.get("data-day") == "2017-10-16"]
    heights = sum(float(b.get("height")) for b in bars)
    assert heights == pytest.approx(4 / 4 * 240)  # the day's 4 articles, on an axis that reaches 4


def test_chart_legend_names_each_outlet_with_its_total_and_groups_the_smallest():
    counts = [DayCount("2017-10-16", f"Outlet {n:02d}", n + 1) for n in range(12)]
    legend = [t.text for t in parsed(coverage_svg(counts, "Articles")).iter(f"{SVG}text") if t.text and "(" in t.text]
    assert legend[:2] == ["Outlet 11 (12)", "Outlet 10 (11)"]
    assert legend[-1] == "other outlets (6)"  # Outlet 00, 01 and 02: 1 + 2 + 3
    assert len(legend) == 10


def test_chart_escapes_what_it_shows():
    hostile = '<script>alert(1)</script>" onload="alert(2)'
    svg = coverage_svg([DayCount("2017-10-16", hostile, 1)], f"Articles {hostile}")
    root = parsed(svg)
    assert "<script" not in svg and not any(e.get("onload") for e in root.iter())
    assert root.find(f".//{SVG}rect[@data-count]").get("data-outlet") == hostile


def test_chart_without_dated_articles_says_so():
    assert "No dated articles match." in coverage_svg([], "Articles")
