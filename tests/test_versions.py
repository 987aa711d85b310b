"""Updated articles: a URL that gives another text is one article with versions, not a reject."""

import dataclasses
import shutil

import pytest
from click.testing import CliRunner
from datasette.app import Datasette

from clippings.cli import DEFAULT_TOPIC, main
from clippings.publish import load_metadata
from clippings.release import write_release
from pipelines.core.analysis import analyse_page
from pipelines.core.items import FetchedPage
from pipelines.core.relevance import TopicMatcher
from pipelines.core.stories import sketch
from pipelines.core.topic import load_topic
from pipelines.core.versions import captured_at, numbered, takes_article_place, words_changed
from pipelines.store.archive import Archive
from pipelines.store.pages import capture_page, dedupe_page, store_page

from .conftest import LOOPBACK, THRESHOLDS, rows, run_clippings, scrapy_crawl
from .sites import DAY, Answer, article_html, html, page, site_with_sitemap

STORY = f"/{DAY}/updated/"
CORRECTION = "Correction: an earlier version of this article misstated the number of women who spoke out. "
FIRST = article_html("updated")
SECOND = article_html("updated", extra=CORRECTION)


class Changing:
    """A route whose page the test replaces between crawls, as an outlet updates an article."""

    def __init__(self, text: str):
        self.answer = html(text)

    def __call__(self, handler, times: int) -> Answer:
        return self.answer


@pytest.fixture(scope="module")
def site():
    routes = {STORY: Changing(FIRST), f"/{DAY}/steady/": page(html(article_html("steady")))}
    with site_with_sitemap(routes) as running:
        yield running


@pytest.fixture(scope="module")
def crawled(site, tmp_path_factory):
    """The site crawled, the article updated, crawled again, and once more unchanged."""
    tmp_path = tmp_path_factory.mktemp("versions")
    site.server.routes[STORY].answer = html(FIRST)
    scrapy_crawl("sitemaps", tmp_path, site.topic())
    site.server.routes[STORY].answer = html(SECOND)
    scrapy_crawl("sitemaps", tmp_path, site.topic())
    before = {
        table: rows(tmp_path / "archive.db", f"SELECT count(*) FROM {table}")  # names from this test only
        for table in ("articles", "article_versions", "captures", "rejects", "copies")
    }
    scrapy_crawl("sitemaps", tmp_path, site.topic())  # the log file holds every run: the archive says what each did
    after = {table: rows(tmp_path / "archive.db", f"SELECT count(*) FROM {table}") for table in before}
    assert after == before  # the third crawl saw both texts before: it adds nothing
    return tmp_path / "archive.db"


@pytest.mark.slow
def test_updated_page_is_one_article_with_two_versions(site, crawled):
    articles = rows(crawled, "SELECT id, text FROM articles WHERE url = ?", (site.url(STORY),))
    assert len(articles) == 1
    article_id, text = articles[0]
    versions = rows(
        crawled,
        "SELECT version, text, words_added, words_removed, capture_id FROM article_versions "
        "WHERE article_id = ? ORDER BY version",
        (article_id,),
    )
    assert [v[0] for v in versions] == [1, 2]
    assert CORRECTION not in versions[0][1] and CORRECTION.strip() in versions[1][1]
    assert (versions[0][2], versions[0][3]) == (0, 0)
    assert versions[1][2] == len(CORRECTION.split()) and versions[1][3] == 0
    assert versions[0][4] != versions[1][4]  # each version with the capture that showed it
    # the article keeps the earliest captured text: its search entry and story sketch are the first version's
    assert text == versions[0][1]
    sketched = rows(crawled, "SELECT hash FROM text_sketches WHERE article_id = ? ORDER BY hash", (article_id,))
    assert tuple(h for (h,) in sketched) == tuple(sorted(sketch(versions[0][1])))
    assert rows(crawled, "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'misstated'") == [(0,)]


@pytest.mark.slow
def test_updated_page_is_no_longer_a_reject(crawled):
    assert rows(crawled, "SELECT count(*) FROM rejects WHERE stage = 'dedupe'") == [(0,)]
    runs = rows(crawled, "SELECT articles_added, versions_added FROM crawl_runs ORDER BY started_at, rowid")
    assert runs == [(2, 0), (0, 1), (0, 0)]


@pytest.mark.slow
def test_an_article_that_never_changed_has_no_versions(site, crawled):
    steady = rows(crawled, "SELECT id FROM articles WHERE url = ?", (site.url(f"/{DAY}/steady/"),))[0][0]
    assert rows(crawled, "SELECT count(*) FROM article_versions WHERE article_id = ?", (steady,)) == [(0,)]


@pytest.mark.slow
def test_takedown_removes_the_versions_and_their_captures(site, crawled, tmp_path):
    db = shutil.copy(crawled, tmp_path / "archive.db")
    result = CliRunner().invoke(main, ["takedown", "add", site.url(STORY), "--reason", "asked", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert rows(db, "SELECT count(*) FROM article_versions") == [(0,)]
    assert rows(db, "SELECT count(*) FROM captures WHERE url = ?", (site.url(STORY),)) == [(0,)]
    assert CORRECTION.encode() not in db.read_bytes()


@pytest.mark.slow
def test_public_release_has_no_version_text(crawled, tmp_path):
    out = tmp_path / "public.db"
    write_release(crawled, out, public=True)
    assert rows(out, "SELECT count(*), sum(length(text)) FROM article_versions") == [(2, 0)]
    assert CORRECTION.encode() not in out.read_bytes()


def processed(archive, topic, html_text, fetched_at, source="seeds", archived_at=None):
    """One page through the crawl's own functions, as the pipelines call them."""
    url = "http://news.example/2017/10/16/updated/"
    fetched = FetchedPage(
        url, url, 200, {}, html_text.encode(), fetched_at, "seeds", "run", source=source, archived_at=archived_at
    )
    capture_page(archive, topic, fetched)
    analyse_page(fetched, TopicMatcher(topic), THRESHOLDS)
    dedupe_page(archive, fetched)
    return store_page(archive, topic, fetched, THRESHOLDS)


def test_version_captured_earlier_takes_the_articles_place(tmp_path):
    topic = load_topic(DEFAULT_TOPIC)
    archive = Archive(tmp_path / "a.db")
    archive.sync_topic(topic)
    archive.start_run("run", "seeds", topic, "clippings/test", True)
    assert processed(archive, topic, SECOND, "2026-11-20T10:00:00+00:00") == "articles_added"
    # a web archive's copy from 2017 shows the text before the correction
    outcome = processed(archive, topic, FIRST, "2026-11-21T10:00:00+00:00", "wayback", "2017-10-16T12:00:00+00:00")
    assert outcome == "versions_added"
    (text,) = archive.row("SELECT text FROM articles").values()
    assert CORRECTION not in text
    versions = archive.conn.execute("SELECT version, captured_at FROM article_versions ORDER BY version").fetchall()
    assert versions == [(1, "2017-10-16T12:00:00+00:00"), (2, "2026-11-20T10:00:00+00:00")]
    assert archive.conn.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'misstated'").fetchone() == (0,)
    assert processed(archive, topic, SECOND, "2026-11-22T10:00:00+00:00") == "articles_unchanged"


@pytest.mark.parametrize(
    "before, after, changed",
    [("a b c", "a b c", (0, 0)), ("a b c", "a b x c", (1, 0)), ("a b c", "a c", (0, 1)), ("a b c", "a x c", (1, 1))],
)
def test_words_changed(before, after, changed):
    assert words_changed(before, after) == changed


def test_numbered_counts_each_version_against_the_one_before():
    assert numbered(["a b c", "a b x c", "a x c"]) == [(1, 0, 0), (2, 1, 0), (3, 0, 1)]
    assert numbered(["a b c"]) == [(1, 0, 0)]
    assert numbered([]) == []


@pytest.mark.parametrize(
    "version, article, elsewhere, takes",
    [
        ("2017-10-16T12:00:00+00:00", "2026-11-20T10:00:00+00:00", False, True),  # an archived copy found later
        ("2026-11-21T10:00:00+00:00", "2026-11-20T10:00:00+00:00", False, False),  # an update
        ("2017-10-16T12:00:00+00:00", "2026-11-20T10:00:00+00:00", True, False),  # another article has the text
    ],
)
def test_takes_article_place_only_an_earlier_text_of_its_own(version, article, elsewhere, takes):
    assert takes_article_place(version, article, elsewhere) is takes


def test_captured_at_is_the_web_archives_time_for_an_archived_copy():
    live = FetchedPage(
        url="https://a.test/",
        final_url="https://a.test/",
        status=200,
        headers={},
        body=b"",
        fetched_at="2026-11-20",
        spider="seeds",
        crawl_run_id="run",
    )
    assert captured_at(live) == "2026-11-20"
    assert captured_at(dataclasses.replace(live, archived_at="2017-10-16")) == "2017-10-16"


@pytest.mark.slow
@pytest.mark.asyncio
async def test_reading_view_lists_the_versions(site, crawled):
    ((article_id,),) = rows(crawled, "SELECT id FROM articles WHERE url = ?", (site.url(STORY),))
    ds = Datasette([str(crawled)], metadata=load_metadata(crawled))
    page = (await ds.client.get(f"/archive/articles/{article_id}")).text
    assert "Versions at this URL" in page
    assert page.count('href="/archive/article_versions/') == 2
    assert f"(+{len(CORRECTION.split())} / -0)" in page
    version_page = await ds.client.get("/archive/article_versions/2")
    assert version_page.status_code == 200 and "misstated" in version_page.text


@pytest.mark.slow
@pytest.mark.asyncio
async def test_datasheet_counts_updated_articles(crawled):
    ds = Datasette([str(crawled)], metadata=load_metadata(crawled))
    home = (await ds.client.get("/")).text
    assert "2 articles (1 of them updated after their first capture, with 2 versions in all)" in home


@pytest.mark.slow
def test_rehydrate_restores_the_version_the_page_shows_now(site, crawled, tmp_path):
    release = tmp_path / "public.db"
    write_release(crawled, release, public=True)
    result = run_clippings("rehydrate", str(release), "--no-wayback", *LOOPBACK)
    assert result.returncode == 0, result.stdout + result.stderr
    ((article_id,),) = rows(release, "SELECT id FROM articles WHERE url = ?", (site.url(STORY),))
    # the site serves the corrected text now: version 2 comes back, the article's own text (version 1) does not
    assert rows(release, "SELECT status, detail FROM rehydrations WHERE article_id = ?", (article_id,)) == [
        ("changed", "the page shows version 2 of the article: restored in article_versions")
    ]
    texts = dict(rows(release, "SELECT version, text FROM article_versions WHERE article_id = ?", (article_id,)))
    assert texts[1] == "" and CORRECTION.strip() in texts[2]
    assert rows(release, "SELECT text FROM articles WHERE id = ?", (article_id,)) == [("",)]


# --- phantom versions: the same page, extracted again after the outlet's boilerplate grew -----

PROMPT = "The Fault Gazette has covered the film industry since 1921."


def with_prompt(slug: str, extra: str = "") -> str:
    """An article in which its outlet adds a line about itself, which becomes boilerplate once
    three archived articles carry it (BOILERPLATE_MIN_ARTICLES)."""
    return article_html(slug, extra=extra).replace("</p>", f"</p><p>{PROMPT}</p>", 1)


class Dynamic(Changing):
    """A page whose bytes change at every request (a render counter, as a timestamp or an ad
    slot would), its text only when the test says."""

    def __call__(self, handler, times: int) -> Answer:
        return Answer(self.answer.status, self.answer.body + f"<!-- rendered {times} -->".encode(), self.answer.headers)


@pytest.fixture(scope="module")
def regrown(tmp_path_factory):
    """Three articles with the prompt crawled (none sees it as boilerplate: each sees at most two
    others), then crawled again unchanged (now it is), then once more with one corrected."""
    routes = {
        f"/{DAY}/static-a/": page(html(with_prompt("static-a"))),
        f"/{DAY}/static-b/": page(html(with_prompt("static-b"))),
        f"/{DAY}/dynamic/": Dynamic(with_prompt("dynamic")),
    }
    tmp_path = tmp_path_factory.mktemp("regrown")
    with site_with_sitemap(routes) as running:
        scrapy_crawl("sitemaps", tmp_path, running.topic())
        scrapy_crawl("sitemaps", tmp_path, running.topic())
        after_recrawl = rows(tmp_path / "archive.db", "SELECT count(*) FROM article_versions")
        running.server.routes[f"/{DAY}/dynamic/"].answer = html(with_prompt("dynamic", extra=CORRECTION))
        scrapy_crawl("sitemaps", tmp_path, running.topic())
        yield running, tmp_path / "archive.db", after_recrawl


@pytest.mark.slow
def test_unchanged_pages_make_no_versions_when_the_boilerplate_grew(regrown):
    site, db, after_recrawl = regrown
    assert rows(db, "SELECT count(*) FROM outlet_lines WHERE articles >= 3") == [(1,)]  # the prompt
    assert after_recrawl == [(0,)]
    runs = rows(db, "SELECT articles_added, versions_added FROM crawl_runs ORDER BY started_at, rowid")
    assert runs[:2] == [(3, 0), (0, 0)]


@pytest.mark.slow
def test_a_real_update_after_the_boilerplate_grew_is_a_version(regrown):
    site, db, after_recrawl = regrown
    versions = rows(
        db, "SELECT a.url, v.version, v.text FROM article_versions v JOIN articles a ON a.id = v.article_id ORDER BY v.version"
    )
    assert [(url, number) for url, number, _ in versions] == [
        (site.url(f"/{DAY}/dynamic/"), 1),
        (site.url(f"/{DAY}/dynamic/"), 2),
    ]
    assert CORRECTION.strip() in versions[1][2]


def test_the_same_capture_read_differently_is_no_new_version(tmp_path):
    """The same bytes extracted into another text (a newer extractor, a longer boilerplate list)
    are no new version: a version needs a different capture. Other bytes with that text are one."""
    topic = load_topic(DEFAULT_TOPIC)
    archive = Archive(tmp_path / "a.db")
    archive.sync_topic(topic)
    archive.start_run("run", "seeds", topic, "clippings/test", True)
    assert processed(archive, topic, FIRST, "2026-11-20T10:00:00+00:00") == "articles_added"
    for body, shown_before in ((FIRST, True), (FIRST + "<!-- rendered again -->", False)):
        url = "http://news.example/2017/10/16/updated/"
        fetched = FetchedPage(url, url, 200, {}, body.encode(), "2026-11-21T10:00:00+00:00", "seeds", "run")
        capture_page(archive, topic, fetched)
        analyse_page(fetched, TopicMatcher(topic), THRESHOLDS)
        fetched.article = dataclasses.replace(fetched.article, text=fetched.article.text + "\nAn extra line read.")
        dedupe_page(archive, fetched)
        assert (fetched.unchanged, fetched.version_of is not None) == (shown_before, not shown_before)
