"""The published archive: every page and canned query of the demo archive through Datasette, with the real metadata.yml."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import urlencode

import pytest
from datasette.app import Datasette
from datasette.utils import path_from_row_pks

from clippings.publish import load_metadata

DESCRIBED = load_metadata(Path("archive.db"))["databases"]["archive"]
# Tables that only release files have (clippings/release.py, crawlers/rehydration.py).
RELEASE_ONLY = {"releases", "release_snippets", "rehydrations"}
TABLES = sorted(set(DESCRIBED["tables"]) - RELEASE_ONLY)
QUERIES = sorted(DESCRIBED["queries"])
# What a researcher would type; queries not listed here take no parameter.
RESEARCHER_PARAMS = {
    "articles_mentioning_person": {"person": "Alyssa Milano"},
    "first_week_coverage": {"person": "Alyssa Milano"},
    "search_articles": {"q": "Milano"},
}
FORMATS = ("", ".json", ".csv")
HIGHLIGHTED_MILANO = re.compile(r"\*\*milano\*\*", re.IGNORECASE)


@pytest.fixture
def ds(demo_archive: Path) -> Datasette:
    return Datasette([str(demo_archive)], metadata=load_metadata(demo_archive))


def db_name(demo_archive: Path) -> str:
    return demo_archive.stem


def archive_schema(db: Path) -> dict[str, list[str]]:
    """Every table and its columns, as SQLite has them, without FTS shadow tables."""
    with closing(sqlite3.connect(db)) as conn:
        tables = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
        virtual = [name for name, sql in tables if sql.upper().startswith("CREATE VIRTUAL TABLE")]
        kept = [name for name, _ in tables if not any(name.startswith(f"{v}_") for v in virtual)]
        return {name: [c[1] for c in conn.execute(f"PRAGMA table_info([{name}])")] for name in kept}


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def query_path(demo_archive: Path, name: str, fmt: str, params: dict[str, str]) -> str:
    return f"/{db_name(demo_archive)}/{name}{fmt}" + (f"?{urlencode(params)}" if params else "")


def test_metadata_describes_every_table_and_column_of_the_archive(demo_archive):
    schema = archive_schema(demo_archive)
    described = {name: table for name, table in DESCRIBED["tables"].items() if name not in RELEASE_ONLY}
    assert set(schema) == set(described), "metadata.yml and the archive disagree on the tables"
    for table, columns in schema.items():
        assert described[table].get("description"), f"{table} has no description"
        descriptions = described[table].get("columns") or {}
        missing = [c for c in columns if not descriptions.get(c)]
        assert not missing, f"metadata.yml does not describe {table}.{', '.join(missing)}"
        assert set(descriptions) <= set(columns), f"metadata.yml describes columns {table} does not have"


def test_metadata_gives_every_canned_query_a_title_and_description():
    for name in QUERIES:
        assert DESCRIBED["queries"][name].get("title"), name
        assert DESCRIBED["queries"][name].get("description"), name


@pytest.mark.asyncio
@pytest.mark.parametrize("page", ["/", "/-/metadata", "/{db}", "/{db}.json"])
async def test_home_and_database_pages_answer(ds, demo_archive, page):
    response = await ds.client.get(page.format(db=db_name(demo_archive)))
    assert response.status_code == 200


@pytest.mark.asyncio
async def test_database_page_lists_every_canned_query(ds, demo_archive):
    response = await ds.client.get(f"/{db_name(demo_archive)}")
    for name in QUERIES:
        assert f'href="/{db_name(demo_archive)}/{name}"' in response.text, name


@pytest.mark.asyncio
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("table", TABLES)
async def test_table_page_answers(ds, demo_archive, table, fmt):
    response = await ds.client.get(f"/{db_name(demo_archive)}/{table}{fmt}")
    assert response.status_code == 200
    if fmt == ".csv":
        header = next(csv.reader(io.StringIO(response.text)))
        assert set(archive_schema(demo_archive)[table]) <= set(header)


@pytest.mark.asyncio
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("table", TABLES)
async def test_row_page_answers(ds, demo_archive, table, fmt):
    db = db_name(demo_archive)
    listing = (await ds.client.get(f"/{db}/{table}.json?_shape=objects&_size=1")).json()
    if not listing["rows"]:
        pytest.skip(f"the demo archive has no {table} rows")
    row_path = path_from_row_pks(listing["rows"][0], listing["primary_keys"], not listing["primary_keys"])
    response = await ds.client.get(f"/{db}/{table}/{row_path}{fmt}")
    assert response.status_code == 200
    if fmt == ".csv":
        assert len(read_csv(response.text)) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("name", QUERIES)
async def test_canned_query_without_parameters_answers_without_error(ds, demo_archive, name):
    response = await ds.client.get(f"/{db_name(demo_archive)}/{name}.json")
    assert response.status_code == 200, response.json().get("error")
    assert response.json()["ok"] is True
    html = await ds.client.get(f"/{db_name(demo_archive)}/{name}")
    assert html.status_code == 200


@pytest.mark.asyncio
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", QUERIES)
async def test_canned_query_returns_rows(ds, demo_archive, name, fmt):
    params = RESEARCHER_PARAMS.get(name, {})
    response = await ds.client.get(query_path(demo_archive, name, fmt, params))
    assert response.status_code == 200, response.text[:500]
    if fmt == ".json":
        assert response.json()["rows"], f"{name} returned no rows"
    elif fmt == ".csv":
        # A failing query still answers 200 in CSV, with an empty body: the rows are the check.
        assert read_csv(response.text), f"{name} returned no CSV rows"
    else:
        assert '<td class="col-' in response.text, f"{name} shows no rows"


@pytest.mark.asyncio
async def test_canned_query_for_a_person_keeps_only_that_person(ds, demo_archive):
    response = await ds.client.get(
        query_path(demo_archive, "articles_mentioning_person", ".json", {"person": "Alyssa Milano", "_shape": "objects"})
    )
    people = {row["person"] for row in response.json()["rows"]}
    assert people == {"Alyssa Milano"}


@pytest.mark.asyncio
async def test_search_query_highlights_the_match(ds, demo_archive):
    response = await ds.client.get(query_path(demo_archive, "search_articles", ".json", {"q": "Milano", "_shape": "objects"}))
    rows = response.json()["rows"]
    assert rows
    assert all(HIGHLIGHTED_MILANO.search(row["title"] + row["snippet"]) for row in rows)
    assert any(HIGHLIGHTED_MILANO.search(row["snippet"]) for row in rows)


@pytest.mark.asyncio
async def test_search_query_with_operators_is_not_an_error(ds, demo_archive):
    response = await ds.client.get(query_path(demo_archive, "search_articles", ".json", {"q": '"Milano OR (NEAR'}))
    assert response.status_code == 200, response.json().get("error")


@pytest.mark.asyncio
async def test_articles_json_has_the_configured_facets(ds, demo_archive):
    response = await ds.client.get(f"/{db_name(demo_archive)}/articles.json")
    facets = response.json()["facet_results"]
    assert {"outlet_id", "published_day", "language", "people", "source"} <= set(facets)
    assert facets["people"]["type"] == "person"
    assert "Alyssa Milano" in {value["label"] for value in facets["people"]["results"]}


@pytest.mark.asyncio
@pytest.mark.parametrize("table", [t for t in TABLES if DESCRIBED["tables"][t].get("facets")])
async def test_table_json_has_its_configured_facets(ds, demo_archive, table):
    response = await ds.client.get(f"/{db_name(demo_archive)}/{table}.json")
    configured = {f if isinstance(f, str) else next(iter(f.values())) for f in DESCRIBED["tables"][table]["facets"]}
    assert configured <= set(response.json()["facet_results"])


@pytest.mark.asyncio
async def test_articles_full_text_search_finds_milano(ds, demo_archive):
    response = await ds.client.get(f"/{db_name(demo_archive)}/articles.json?_search=Milano&_shape=objects")
    rows = response.json()["rows"]
    assert rows
    assert all("milano" in (row["title"] + " " + row["text"]).lower() for row in rows)


@pytest.mark.asyncio
async def test_metadata_follows_the_archive_under_another_file_name(demo_archive, tmp_path):
    renamed = tmp_path / "coverage-2017.db"
    with closing(sqlite3.connect(demo_archive)) as source, closing(sqlite3.connect(renamed)) as target:
        source.backup(target)
    ds = Datasette([str(renamed)], metadata=load_metadata(renamed))
    response = await ds.client.get("/coverage-2017/search_articles.json?q=Milano")
    assert response.status_code == 200
    assert response.json()["rows"]
