"""The raw-bytes prefilter of `clippings import`: cheap, and never loses a page naming the topic."""

from __future__ import annotations

import gzip
import sqlite3

import pytest
import yaml
import zstandard

from pipelines.core.prefilter import Prefilter, hyperscan
from pipelines.core.topic import load_topic, parse_topic
from tests.conftest import PROJECT_ROOT

# Both search engines give the same answers; Hyperscan is installed where it is built (x86-64 Linux).
ENGINES = ["automaton", *(["hyperscan"] if hyperscan is not None else [])]


@pytest.fixture(scope="module", params=ENGINES)
def prefilter(request) -> Prefilter:
    return Prefilter.for_topic(load_topic(PROJECT_ROOT / "topics" / "metoo.yml"), request.param)


@pytest.mark.parametrize(
    "body",
    [
        b"<h1>Harvey Weinstein fired</h1>",
        b"<p>HARVEY WEINSTEIN</p>",
        b"<p>Harvey&nbsp;<a href='/people/weinstein'>Weinstein</a>'s company</p>",
        b"<p>Weinstein&rsquo;s accusers</p>",
        b"<p>Judith Godr&egrave;che spoke</p>",
        "<p>Judith Godrèche spoke</p>".encode("utf-8"),
        "<p>Judith Godrèche spoke</p>".encode("latin-1"),
        b'<script type="application/ld+json">{"articleBody": "Judith Godr\\u00e8che spoke"}</script>',
        b"<p>the #MeToo wave</p>",
        b"<p>&#35;MeToo</p>",
        b"<p>she wrote me&nbsp;too.</p>",
        b"<p>she wrote &quot;me\n   too&quot;</p>",
        b"<p>she wrote <em>me</em> <em>too</em></p>",
        "<p>#BalanceTonPorc</p>".encode("utf-8"),
        "<p>#米兔 运动</p>".encode("utf-8"),
        b"<p>&#31859;&#20820;</p>",
        b"<p>&#x7C73;&#x5154;</p>",
        "<p>#Ятоже</p>".encode("utf-8"),
    ],
)
def test_prefilter_keeps_pages_naming_the_topic(prefilter, body):
    assert prefilter.may_match(body)


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("text/html; charset=gb2312", "<p>#米兔</p>".encode("gb2312")),
        ("text/html; charset=koi8-r", "<p>#Ятоже</p>".encode("koi8-r")),
        (None, '<meta charset="euc-kr"><p>#나도</p>'.encode("euc-kr")),
        (None, "\ufeff<p>Harvey Weinstein</p>".encode("utf-16-le")),
        (None, "<p>Harvey Weinstein</p>".encode("utf-16")),
    ],
)
def test_prefilter_reads_other_charsets(prefilter, content_type, body):
    assert prefilter.may_match(body, content_type)


@pytest.mark.parametrize(
    "body",
    [
        b"<p>The council approved the budget on Tuesday.</p>",
        b"<div class='wrapper'>Prices rose</div>",  # "rapp" (Anthony Rapp) inside a word
        b"<p>Louis said the price was right</p>",  # a first name alone
        b"<p>metoolbox</p>",
        b"<p>I went home too, and so did me mum</p>",
    ],
)
def test_prefilter_drops_pages_that_cannot_name_the_topic(prefilter, body):
    assert not prefilter.may_match(body)


@pytest.mark.parametrize("engine", ENGINES)
def test_prefilter_keeps_every_archived_article_of_the_demo(demo_archive, engine):
    """Every page the live crawl kept as an article passes: the filter loses nothing."""
    conn = sqlite3.connect(demo_archive)
    topic_yaml = conn.execute("SELECT yaml FROM topics").fetchone()[0]
    rows = conn.execute(
        "SELECT b.body, c.content_type FROM articles a JOIN captures c ON c.id = a.capture_id "
        "JOIN capture_bodies b USING (content_sha256)"
    ).fetchall()
    conn.close()
    demo_filter = Prefilter.for_topic(parse_topic(yaml.safe_load(topic_yaml)), engine)
    bodies = [(zstandard.ZstdDecompressor().decompress(body), content_type) for body, content_type in rows]
    assert len(bodies) >= 20
    assert all(demo_filter.may_match(body, content_type) for body, content_type in bodies)


def test_prefilter_engines_agree_on_the_benchmark_pages():
    """Hyperscan and the automaton keep and drop the same pages (the extraction benchmark's
    pages: real sites, mostly off-topic, some naming a keyword)."""
    from benchmarks.extraction import DEFAULT_DATA

    if hyperscan is None:
        pytest.skip("Hyperscan is not built for this platform")
    if not (DEFAULT_DATA / "ground-truth.json").exists():
        pytest.skip(f"benchmark data not at {DEFAULT_DATA} (CI has it)")
    topic = load_topic(PROJECT_ROOT / "topics" / "metoo.yml")
    automaton, fast = Prefilter.for_topic(topic, "automaton"), Prefilter.for_topic(topic, "hyperscan")
    pages = [gzip.decompress(path.read_bytes()) for path in sorted((DEFAULT_DATA / "html").glob("*.html.gz"))]
    answers = [automaton.may_match(page) for page in pages]
    assert [fast.may_match(page) for page in pages] == answers
    assert 0 < sum(answers) < len(answers)
