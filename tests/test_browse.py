"""The archive in a browser (clippings.browse plugin): datasheet, chart, search in context,
reading view, robots.txt, inert web text, streaming exports. Datasette's own test client."""

import csv
import io
import json
import shutil
import sqlite3
import xml.etree.ElementTree as ET
from contextlib import closing
from urllib.parse import urlsplit

import lxml.html
import pytest
from datasette.app import Datasette

from clippings.browse import wayback_url
from clippings.publish import load_metadata
from pipelines.core.canonical import web_url

from .conftest import rows

pytestmark = pytest.mark.asyncio

HOSTILE_TITLE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">Injected'


@pytest.fixture(scope="module")
def hostile_archive(demo_archive, tmp_path_factory):
    """A copy of the demo archive whose first article's title carries markup from the web."""
    path = tmp_path_factory.mktemp("hostile") / "archive.db"
    shutil.copy(demo_archive, path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE articles SET title = ? WHERE id = 1", (HOSTILE_TITLE,))
    conn.commit()
    conn.close()
    return path


def client(db):
    return Datasette([str(db)], metadata=load_metadata(db)).client


async def test_home_page_shows_datasheet_from_the_archive(demo_archive):
    html = (await client(demo_archive).get("/")).text
    articles = rows(demo_archive, "SELECT count(*) FROM articles")[0][0]
    assert "Datasheet: archive" in html
    assert f"{articles} articles" in html
    assert "2017-10-01 to 2018-01-31" in html
    assert "#MeToo" in html and "Known gaps" in html
    assert "robots.txt: obeyed in 3 run(s)" in html
    assert "trafilatura" in html and "clippings/0.1.0" in html
    assert "Settings in force" in html and "<code>MIN_ARTICLE_WORDS</code>: 40" in html


async def test_robots_txt_keeps_crawlers_off(demo_archive):
    response = await client(demo_archive).get("/robots.txt")
    assert response.status_code == 200 and response.text == "User-agent: *\nDisallow: /\n"


async def test_articles_page_has_chart_with_bundled_script(demo_archive):
    ds = client(demo_archive)
    html = (await ds.get("/archive/articles?people__arraycontains=Alyssa+Milano&_size=5&_sort=title")).text
    chart = lxml.html.fromstring(html).get_element_by_id("clippings-coverage-chart")
    assert chart.get("data-svg") == "/archive/articles/-/coverage.svg?people__arraycontains=Alyssa+Milano"
    links = lxml.html.fromstring(html).cssselect(".clippings-chart-links a")
    assert [a.get("href") for a in links] == [
        "/archive/articles/-/coverage.csv?people__arraycontains=Alyssa+Milano",
        "/archive/articles/-/coverage.svg?people__arraycontains=Alyssa+Milano",
    ]
    assert "/-/static-plugins/clippings/coverage.js" in html and "/-/static-plugins/clippings/pages.js" in html
    assert "cdn" not in html.lower()
    script = await ds.get("/-/static-plugins/clippings/coverage.js")
    assert script.status_code == 200 and "DOMParser" in script.text


def coverage_counts(db, where: str = "1", params: tuple = ()) -> list[tuple]:
    return rows(
        db,
        "SELECT a.published_day, a.outlet_id, o.name, count(*) FROM articles a JOIN outlets o ON o.id = a.outlet_id "
        f"WHERE a.published_day IS NOT NULL AND {where} GROUP BY 1, 2 ORDER BY 1, 3",
        params,
    )


@pytest.mark.parametrize(
    "filters, where, params",
    [
        ("", "1", ()),
        (
            "?people__arraycontains=Alyssa+Milano",
            "EXISTS (SELECT 1 FROM json_each(a.people) WHERE value = ?)",
            ("Alyssa Milano",),
        ),
        ("?_search=Milano", "a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)", ("Milano",)),
        ("?language=fr&_sort=title&_size=2&_next=3", "a.language = ?", ("fr",)),
    ],
)
async def test_coverage_csv_counts_the_rows_the_page_filters(demo_archive, filters, where, params):
    response = await client(demo_archive).get(f"/archive/articles/-/coverage.csv{filters}")
    assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    counted = [(r["day"], r["outlet_id"], r["outlet"], int(r["articles"])) for r in csv.DictReader(io.StringIO(response.text))]
    assert counted == coverage_counts(demo_archive, where, params) and counted


async def test_coverage_svg_is_the_chart_of_the_same_counts(demo_archive):
    response = await client(demo_archive).get("/archive/articles/-/coverage.svg?people__arraycontains=Alyssa+Milano")
    assert response.status_code == 200 and response.headers["content-type"] == "image/svg+xml; charset=utf-8"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    root = ET.fromstring(response.text)
    bars = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("data-count")]
    expected = coverage_counts(demo_archive, "EXISTS (SELECT 1 FROM json_each(a.people) WHERE value = ?)", ("Alyssa Milano",))
    assert sorted((b.get("data-day"), b.get("data-outlet"), int(b.get("data-count"))) for b in bars) == sorted(
        (day, name, n) for day, _, name, n in expected
    )
    assert "people contains" in root.find("{http://www.w3.org/2000/svg}title").text


async def test_coverage_of_a_database_that_is_not_an_archive_is_not_found(demo_archive, foreign_db):
    ds = Datasette([str(demo_archive), str(foreign_db)], metadata=load_metadata(demo_archive))
    assert (await ds.client.get("/survey/articles/-/coverage.csv")).status_code == 404
    assert (await ds.client.get("/nosuch/articles/-/coverage.svg")).status_code == 404


async def test_coverage_chart_escapes_outlet_names(hostile_outlet_archive):
    svg = (await client(hostile_outlet_archive).get("/archive/articles/-/coverage.svg")).text
    assert "<script" not in svg and "&lt;script&gt;" in svg
    ET.fromstring(svg)


@pytest.fixture(scope="module")
def hostile_outlet_archive(demo_archive, tmp_path_factory):
    path = tmp_path_factory.mktemp("outlet") / "archive.db"
    shutil.copy(demo_archive, path)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("UPDATE outlets SET name = '<script>window.__pwned = 1</script>' WHERE rowid = 1")
        conn.commit()
    return path


async def test_column_descriptions_are_folded_beside_the_table(demo_archive):
    html = (await client(demo_archive).get("/archive/articles")).text
    page = lxml.html.fromstring(html)
    (folded,) = page.cssselect("details.clippings-columns")
    described = load_metadata(demo_archive)["databases"]["archive"]["tables"]["articles"]["columns"]
    assert [dt.text_content() for dt in folded.cssselect("dt")] == list(described)
    assert folded.get("open") is None
    headers = {th.get("data-column"): th.get("data-column-description") for th in page.cssselect("th[data-column]")}
    assert headers["published_source"] == described["published_source"]


async def test_search_shows_highlighted_passages(demo_archive):
    html = (await client(demo_archive).get("/archive/articles?_search=Milano")).text
    assert "Matches in context" in html
    assert "<mark>Milano</mark>" in html


async def test_search_passages_are_escaped(hostile_archive):
    html = (await client(hostile_archive).get("/archive/articles?_search=Injected")).text
    assert "window.__pwned = 1</script>" not in html
    assert "&lt;script&gt;" in html


async def test_canned_search_highlights_after_escaping(hostile_archive):
    html = (await client(hostile_archive).get("/archive/search_articles?q=Injected")).text
    assert "<mark>Injected</mark>" in html
    assert "<script>window.__pwned" not in html


async def test_article_page_is_a_reading_view(demo_archive):
    article_id, title, url, paragraphs = rows(
        demo_archive,
        "SELECT id, title, url, length(text) - length(replace(text, char(10), '')) + 1 FROM articles WHERE published_source = 'json-ld' LIMIT 1",
    )[0]
    html = (await client(demo_archive).get(f"/archive/articles/{article_id}")).text
    assert 'class="clippings-article"' in html
    start = html.index('class="clippings-text"')
    assert html[start : html.index("</div>", start)].count("<p>") == paragraphs
    assert "(from json-ld)" in html
    assert f'href="{url}"' in html and "web.archive.org/web/" in html


async def test_article_page_lists_the_other_copies(demo_archive):
    ((article_id, copy_url),) = rows(demo_archive, "SELECT article_id, url FROM copies")
    html = (await client(demo_archive).get(f"/archive/articles/{article_id}")).text
    assert "Other copies of this story" in html and copy_url in html


async def test_article_page_renders_web_text_inert(hostile_archive):
    html = (await client(hostile_archive).get("/archive/articles/1")).text
    assert "<script>window.__pwned" not in html and 'onerror="window' not in html
    assert "&lt;script&gt;window.__pwned" in html


# URLs an archive built before links were checked may hold (a page's declared canonical URL):
# none may reach a page as a link, whatever the scheme's spelling.
HOSTILE_LINKS = [
    "javascript://e.example/%0Awindow.__pwned=1",
    "JaVaScRiPt:window.__pwned=1",
    " javascript:window.__pwned=1",
    "java\tscript:window.__pwned=1",
    "\x01javascript:window.__pwned=1",
    "data:text/html,<script>window.__pwned=1</script>",
    "vbscript:msgbox(1)",
    "javascript&#58;window.__pwned=1",
]


@pytest.fixture(scope="module", params=HOSTILE_LINKS)
def archive_with_hostile_links(request, demo_archive, tmp_path_factory):
    """A copy of the demo archive whose article with a copy, and that copy, have a hostile URL."""
    path = tmp_path_factory.mktemp("links") / "archive.db"
    shutil.copy(demo_archive, path)
    with closing(sqlite3.connect(path)) as conn:
        (article_id,) = conn.execute("SELECT article_id FROM copies LIMIT 1").fetchone()
        conn.execute("UPDATE articles SET url = ? WHERE id = ?", (request.param, article_id))
        conn.execute("UPDATE copies SET url = ? WHERE article_id = ?", (request.param + "-copy", article_id))
        conn.execute("UPDATE captures SET url = ?, final_url = ? WHERE id = 1", (request.param, request.param))
        conn.commit()
    return path, article_id


def links_in(page: str) -> list[str]:
    """Every link target of a page, as the browser reads it (entities decoded)."""
    tree = lxml.html.fromstring(page)
    return [
        value
        for element in tree.iter()
        for name, value in element.items()
        if name in ("href", "src", "action", "formaction", "xlink:href")
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/archive/articles/{id}",
        "/archive/articles",
        "/archive/copies",
        "/archive/captures",
        "/archive/captures/1",
        "/archive?sql=select+url+from+articles+where+id%3D{id}",
    ],
)
async def test_stored_hostile_urls_are_never_links(archive_with_hostile_links, path):
    db, article_id = archive_with_hostile_links
    page = (await client(db).get(path.format(id=article_id))).text
    links = links_in(page)
    assert links and all(web_url(link) or link.startswith(("/", "#", "?")) for link in links), [
        link for link in links if not web_url(link) and not link.startswith(("/", "#", "?"))
    ]


async def test_reading_view_shows_a_hostile_url_as_text(archive_with_hostile_links):
    db, article_id = archive_with_hostile_links
    page = (await client(db).get(f"/archive/articles/{article_id}")).text
    reading = lxml.html.fromstring(page).cssselect(".clippings-article")[0]
    assert "not an http(s) address" in reading.text_content()


async def test_csv_streams_the_whole_table(demo_archive):
    response = await client(demo_archive).get("/archive/captures.csv?_stream=on&_size=max")
    lines = [line for line in response.text.splitlines() if line]
    assert len(lines) - 1 == rows(demo_archive, "SELECT count(*) FROM captures")[0][0]


async def test_pages_of_other_databases_are_left_alone(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT)")
    conn.commit()
    conn.close()
    ds = Datasette([str(other)], metadata={"databases": {"other": {"tables": {"articles": {"columns": {"title": "A title"}}}}}})
    page = (await ds.client.get("/other/articles")).text
    assert "clippings-coverage-chart" not in page and "pages.js" not in page and "clippings-columns" not in page
    assert "Datasheet" not in (await ds.client.get("/")).text


@pytest.mark.parametrize(
    "captured_at, expected",
    [
        ("2017-10-16T08:01:02+00:00", "https://web.archive.org/web/20171016080102/https://e.example/a"),
        (None, "https://web.archive.org/web/*/https://e.example/a"),
    ],
)
async def test_wayback_url_uses_capture_time(captured_at, expected):
    assert wayback_url("https://e.example/a", captured_at) == expected


async def test_person_facet_counts_mentions_and_filters_through_them(demo_archive):
    ds = client(demo_archive)
    facet = (await ds.get("/archive/articles.json?_size=0")).json()["facet_results"]["people"]
    milano = next(v for v in facet["results"] if v["label"] == "Alyssa Milano")
    expected = rows(demo_archive, "SELECT count(*) FROM mentions WHERE person_id = 'alyssa-milano'")[0][0]
    assert milano["count"] == expected >= 3
    assert "_through=" in milano["toggle_url"] and "arraycontains" not in milano["toggle_url"]
    link = urlsplit(milano["toggle_url"])
    filtered = (await ds.get(f"{link.path}?{link.query.replace('_size=0', '_size=max')}&_shape=objects")).json()
    assert len(filtered["rows"]) == expected
    assert all("Alyssa Milano" in json.loads(r["people"]) for r in filtered["rows"])


async def test_person_facet_follows_the_page_filters(demo_archive):
    ds = client(demo_archive)
    facet = (await ds.get("/archive/articles.json?_size=0&language=fr")).json()["facet_results"]["people"]
    french = rows(demo_archive, "SELECT count(*) FROM mentions m JOIN articles a ON a.id = m.article_id WHERE a.language = 'fr'")[
        0
    ][0]
    assert sum(v["count"] for v in facet["results"]) == french


async def test_default_sort_streams_every_row_once(demo_archive, tmp_path):
    """Many articles share the latest publication times, some are undated: paging must still be exact."""
    path = tmp_path / "archive.db"
    shutil.copy(demo_archive, path)
    conn = sqlite3.connect(path)
    template = conn.execute("SELECT * FROM articles WHERE id = 1").fetchone()
    columns = [c[1] for c in conn.execute("PRAGMA table_info(articles)")]
    for n in range(600):
        row = dict(
            zip(columns, template),
            id=None,
            url=f"https://e.example/tie/{n}",
            text_sha256=f"tie-{n}",
            published_at=None if n % 7 == 0 else f"2018-01-{20 + n % 3}T09:00:00+00:00",
        )
        conn.execute(f"INSERT INTO articles ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", list(row.values()))
    conn.commit()
    conn.execute("ANALYZE")  # as on a big archive, the planner then walks the published_at index
    total = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    conn.close()
    ds = Datasette([str(path)], metadata=load_metadata(path), settings={"max_returned_rows": 7})
    response = await ds.client.get("/archive/articles.csv?_stream=on&_size=max&_col=published_at")
    ids = [line.split(",")[0] for line in response.text.splitlines()[1:] if line]
    assert len(ids) == len(set(ids)) == total
