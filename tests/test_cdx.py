"""CDX answers in both dialects (saved responses in tests/pages/cdx, in the exact formats of the
Wayback Machine, Common Crawl and pywb), the queries sent, and the URL filters run before a fetch."""

import datetime as dt
from pathlib import Path

import pytest

from crawlers.articleurls import ArticleUrls, heuristic_refusal
from crawlers.spiders.archived import url_key
from crawlers.spiders.commoncrawl import crawl_dates, crawls_covering
from crawlers.spiders.wayback import replay_pattern
from pipelines.core.topic import TopicError, load_topic, parse_topic
from pipelines.sources.cdx import PYWB, WAYBACK, CdxError, Query, read_answer, timestamp_iso
from pipelines.sources.warcs import warc_date

SAVED = Path(__file__).parent / "pages" / "cdx"
NYT = "https://www.nytimes.com/2017/10/05/us/harvey-weinstein-harassment-allegations.html"


def saved(name: str) -> bytes:
    return (SAVED / name).read_bytes()


def test_read_answer_wayback_array_with_resume_key():
    answer = read_answer(saved("wayback-array-resume.json"))
    assert answer.dialect == WAYBACK
    assert [c.url for c in answer.captures][0] == NYT
    assert answer.captures[0].timestamp == "20171005224609" and answer.captures[0].status == 200
    assert answer.captures[0].mime == "text/html"
    assert answer.resume_key.startswith("com%2Cnytimes%29") and len(answer.captures) == 2


@pytest.mark.parametrize("name, dialect, pages", [("wayback-numpages.txt", WAYBACK, 3), ("commoncrawl-numpages.json", PYWB, 2)])
def test_read_answer_page_counts(name, dialect, pages):
    answer = read_answer(saved(name))
    assert (answer.dialect, answer.pages, answer.captures) == (dialect, pages, [])


def test_read_answer_empty_wayback_array():
    assert read_answer(saved("wayback-array-empty.json")).captures == []


def test_read_answer_commoncrawl_lines_give_the_record():
    first = read_answer(saved("commoncrawl-lines.json")).captures[0]
    assert first.url == NYT and first.offset == 812345678 and first.length == 40123
    assert first.filename.startswith("crawl-data/CC-MAIN-2017-43/") and first.archived_at == "2017-10-17T02:15:07+00:00"


def test_read_answer_pywb_cdxj_lines():
    [capture] = read_answer(saved("pywb-cdxj.txt")).captures
    assert (capture.urlkey, capture.timestamp, capture.offset) == ("example,news)/2017/10/17/b", "20171017100000", 360)


@pytest.mark.parametrize(
    "body, reason",
    [
        (b'[["urlkey","timestamp","original"],["com,x)/", "2017', "broken JSON array"),
        (b"<html><body>Service unavailable</body></html>", "neither JSON nor CDXJ"),
        (b'[["urlkey","timestamp","original"],["com,x)/","20171016"]]', "a row of 2 fields under a header of 3"),
        (b'{"url": "http://x/", "timestamp": "20171016", "offset": "12a"}', "offset '12a' is not a whole number"),
        (b'{"error": "No Captures found for: http://x/"}', "a capture without url or timestamp"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b'{"url": "http://x/", "timestamp": "20171016"}\n[1, 2]', "line 2 is neither JSON nor CDXJ"),
    ],
)
def test_read_answer_unreadable_answers_say_why(body, reason):
    with pytest.raises(CdxError, match="not a CDX answer") as raised:
        read_answer(body)
    assert reason in str(raised.value)


def test_query_sends_the_documented_parameters():
    query = Query("https://web.archive.org/cdx/search/cdx", "nytimes.com", "domain", "20171001", "20171130")
    url = query.page_url(WAYBACK, page=2, resume_key="k")
    for part in (
        "url=nytimes.com",
        "matchType=domain",
        "output=json",
        "from=20171001",
        "to=20171130",
        "filter=statuscode%3A200",
        "filter=mimetype%3Atext%2Fhtml",
        "collapse=urlkey",
        "page=2",
        "pageSize=5",
        "showResumeKey=true",
        "resumeKey=k",
        "fl=urlkey%2Ctimestamp%2Coriginal%2Cmimetype%2Cstatuscode",
    ):
        assert part in url.split("?", 1)[1].split("&")
    assert {"showNumPages=true", "pageSize=5"} <= set(query.page_count_url().split("?", 1)[1].split("&"))
    assert "fl=urlkey%2Ctimestamp%2Curl%2Cmime%2Cstatus%2Cfilename%2Coffset%2Clength" in query.page_url(PYWB)


def test_query_for_listings_keeps_captures_of_any_type():
    url = Query("http://h/cdx", "http://x.example/feed.xml", html_only=False, collapse="").page_count_url()
    assert "mimetype" not in url and "collapse" not in url and "statuscode" in url
    daily = Query("http://h/cdx", "http://x.example/feed.xml", collapse="timestamp:8").page_count_url()
    assert "collapse=timestamp%3A8" in daily


@pytest.mark.parametrize(
    "url, refused",
    [
        ("https://www.nytimes.com/2017/10/05/us/harvey-weinstein-harassment-allegations.html", None),
        ("http://www.reuters.com/article/us-people-harvey-weinstein/weinstein-on-leave-idUSKBN1CB2UQ", None),
        ("https://example.com/news/a-survivors-account/", None),  # no keyword, still an article's URL
        ("https://example.com/story/1234567", None),
        ("http://www.upmedia.mg/news_info.php?SerialNo=83141", None),
        ("https://example.com/", "a front page"),
        ("https://example.com/tag/weinstein/", "a /tag/ page"),
        ("https://example.com/static/logo.png", ".png"),
        ("https://example.com/2017/10/16/page/2", "a listing page"),
        ("https://example.com/about/", "no date, slug or id"),
    ],
)
def test_heuristic_article_urls(url, refused):
    reason = heuristic_refusal(url)
    assert (reason is None) if refused is None else (refused in reason)


TOPIC = {
    "name": "t",
    "window": {"start": "2017-10-01", "end": "2017-10-31"},
    "keywords": ["#MeToo", "sexual harassment"],
    "people": [
        {"name": "Harvey Weinstein", "role": "accused", "aliases": ["Weinstein"]},
        {"name": "Roman Polanski", "role": "context"},
    ],
    "outlets": [
        {"name": "Gazette", "domains": ["gazette.example"], "article_patterns": [r"/\d{4}/\d\d/\d\d/"]},
        {"name": "Post", "domains": ["post.example"]},
    ],
}


def test_outlet_article_patterns_replace_the_heuristic():
    urls = ArticleUrls(parse_topic(TOPIC))
    assert urls.refusal("http://gazette.example/2017/10/16/x") is None
    assert "article_patterns" in urls.refusal("http://gazette.example/news/a-long-story-slug")
    assert urls.refusal("http://post.example/news/a-long-story-slug") is None


def test_url_keywords_rank_and_optionally_filter():
    urls = ArticleUrls(parse_topic(TOPIC), keywords_required=True)
    assert urls.rank("http://post.example/2017/10/16/harvey-weinstein-metoo-sexual_harassment") == 4
    assert urls.rank("http://post.example/2017/10/16/roman-polanski-retrospective") == 0  # context, not counted
    assert "no topic keyword" in urls.refusal("http://post.example/news/a-survivors-account")


def test_topic_rejects_a_bad_article_pattern():
    topic = {**TOPIC, "outlets": [{"name": "Gazette", "domains": ["gazette.example"], "article_patterns": ["(unclosed"]}]}
    with pytest.raises(TopicError, match=r"outlets\[0\].article_patterns\[0\] is not a regular expression"):
        parse_topic(topic)


def test_crawls_covering_the_window():
    collinfo = [
        {"id": "CC-MAIN-2017-51", "from": "2017-12-10T04:00:00", "to": "2017-12-19T02:00:00"},
        {"id": "CC-MAIN-2017-43", "from": "2017-10-16T12:00:00", "to": "2017-10-24T10:00:00"},
        {"id": "CC-MAIN-2017-47"},
    ]
    assert crawls_covering(collinfo, dt.date(2017, 10, 1), dt.date(2017, 11, 30)) == ["CC-MAIN-2017-43", "CC-MAIN-2017-47"]
    assert crawl_dates({"id": "CC-MAIN-2017-47"}) == (dt.date(2017, 11, 6), dt.date(2017, 11, 26))


@pytest.mark.parametrize(
    "raw, iso",
    [
        ("2017-10-16T12:00:00Z", "2017-10-16T12:00:00+00:00"),
        ("2017-10-16T14:00:00+02:00", "2017-10-16T12:00:00+00:00"),
        ("2017-10-16T12:00:00.123456Z", "2017-10-16T12:00:00+00:00"),
        ("yesterday", None),
    ],
)
def test_warc_date_as_iso_utc(raw, iso):
    assert warc_date(raw) == iso


def test_timestamps_as_iso_utc():
    assert timestamp_iso("20171016093000") == "2017-10-16T09:30:00+00:00"
    assert timestamp_iso("2017101609") == "2017-10-16T09:00:00+00:00"


def test_replay_url_reads_back():
    pattern = replay_pattern("https://web.archive.org/web/{timestamp}id_/{url}")
    match = pattern.match(f"https://web.archive.org/web/20171005224609id_/{NYT}?a=1")
    assert (match["timestamp"], match["url"]) == ("20171005224609", f"{NYT}?a=1")
    assert pattern.match("https://web.archive.org/web/2017/" + NYT) is None


def test_url_key_joins_an_archives_variants_of_a_url():
    assert url_key("http://www.nytimes.com:80/2017/x/") == url_key("https://nytimes.com/2017/x") == "nytimes.com/2017/x"
    assert url_key("https://nytimes.com/a?b=1") != url_key("https://nytimes.com/a")


def test_heuristic_keeps_every_seed_article_of_the_metoo_topic():
    topic = load_topic(Path(__file__).parents[1] / "topics" / "metoo.yml")
    seeds = [url for outlet in topic.outlets for url in outlet.seeds]
    assert seeds and [url for url in seeds if heuristic_refusal(url)] == []
