"""Publication dates with provenance, in the documented order of trust."""

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from lxml import html

from pipelines.core.dating import (
    RULES,
    UNDATED,
    DatingRules,
    date_from_status_id,
    date_from_url,
    date_publication,
    normalise_date,
)


def tree(head: str, body: str = "<p>x</p>"):
    return html.fromstring(f"<html><head>{head}</head><body>{body}</body></html>")


def test_date_publication_prefers_meta_over_url_and_htmldate():
    found = date_publication(
        tree('<meta property="article:published_time" content="2017-10-16T08:00:00+01:00">'),
        "https://example.com/2017/10/15/story/",
        htmldate_value="2017-10-20",
    )
    assert (found.value, found.source) == ("2017-10-16T08:00:00+01:00", "meta:article:published_time")
    assert [c.source for c in found.candidates] == ["meta:article:published_time", "url", "htmldate"]


def test_date_publication_never_chooses_a_modification_date():
    found = date_publication(tree('<meta property="article:modified_time" content="2017-10-20">'), "https://example.com/story")
    assert found.value is None and found.source == UNDATED
    assert found.candidates[0].kind == "modified"


def test_date_publication_uses_microdata_time_element():
    found = date_publication(tree("", '<time itemprop="datePublished" datetime="2017-11-29">Nov 29</time>'), "https://e.com/s")
    assert (found.day, found.source) == ("2017-11-29", "microdata")


def test_date_publication_falls_back_to_listing_date_then_undated():
    assert date_publication(tree(""), "https://e.com/s", listing_dates={"feed": "Mon, 16 Oct 2017 10:00:00 GMT"}).source == "feed"
    assert date_publication(tree(""), "https://e.com/s").source == UNDATED


@pytest.mark.parametrize(
    "url, day",
    [
        ("https://e.com/2017/10/16/slug/", "2017-10-16"),
        ("http://www.latimes.com/entertainment/la-et-mn-weinstein-20171014-story.html", "2017-10-14"),
        ("https://e.com/2017-10-05/slug", "2017-10-05"),
        ("https://www.thecut.com/2017/10/im-a-coward.html", None),
        ("https://e.com/2017/13/45/slug/", None),
        ("https://www.albayan.ae/news-and-reports/2020-06-03-1.3874341", "2020-06-03"),
        ("http://www.xinhuanet.com/local/2020-02/19/c_1125597921.htm", "2020-02-19"),
        ("https://www.ipa.go.jp/security/topics/alert20190402.html", "2019-04-02"),
        ("http://www.latimes.com/business/la-fi-argentina-debt-20130527,0,7174451.story", "2013-05-27"),
        ("https://e.com/photo/ca6ce285879e20171016f3fc8148670aa", None),  # digits inside a hash
        ("https://e.com/story/id/201710161234", None),  # a longer number
        ("https://e.com/2017/10/16?utm=20171231", "2017-10-16"),  # never the query
        ("http://[broken/2017/10/16/story", "2017-10-16"),  # a malformed host: no error
    ],
)
def test_date_from_url(url, day):
    assert date_from_url(url) == day


@pytest.mark.parametrize(
    "raw, value",
    [
        ("2017-10-15T23:40:00Z", "2017-10-15T23:40:00+00:00"),
        ("2017-10-15", "2017-10-15"),
        ("Sun, 15 Oct 2017 20:21:00 -0400", "2017-10-15T20:21:00-04:00"),
        ("not a date", None),
        ("1850-01-01", None),
    ],
)
def test_normalise_date(raw, value):
    assert normalise_date(raw) == value


def test_date_publication_prefers_meta_tags_to_json_ld():
    """The order of trust: the meta tags' day, even when JSON-LD and the URL give another."""
    found = date_publication(
        tree(
            '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2020-04-26T07:25:06+02:00"}</script>'
            '<meta property="article:published_time" content="2020-04-24T21:25:06+02:00">'
        ),
        "https://e.com/2020/04/26/s",
    )
    assert (found.day, found.source) == ("2020-04-24", "meta:article:published_time")


def test_htmldate_has_no_vote_of_its_own():
    """htmldate reads the same meta tags and URL: agreeing with one of them, it is no second witness."""
    found = date_publication(
        tree(
            '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2016-09-19T11:46:01-04:00"}</script>'
        ),
        "https://e.com/2016/09/20/print-edition-day.html",
        htmldate_value="2016-09-20",
    )
    assert (found.day, found.source) == ("2016-09-19", "json-ld")


@pytest.mark.parametrize(
    "captured_at, day, source",
    [
        ("2017-10-20T12:00:00+00:00", "2017-10-18", "meta:article:published_time"),
        ("2017-10-17T12:00:00+00:00", "2017-10-16", "url"),  # the meta date is after the capture
        ("2017-10-15T12:00:00+00:00", None, UNDATED),
    ],
)
def test_date_publication_capture_time_is_an_upper_bound(captured_at, day, source):
    found = date_publication(
        tree('<meta property="article:published_time" content="2017-10-18">'), "https://e.com/2017/10/16/s", not_after=captured_at
    )
    assert (found.day, found.source) == (day, source)
    assert len(found.candidates) == 2  # a date after the capture stays among the candidates


@pytest.mark.parametrize(
    "head, url, htmldate_value, trusted",
    [
        ('<meta property="article:published_time" content="2017-10-18">', "https://e.com/s", None, True),
        ("", "https://e.com/2017/10/18/s", None, True),
        ("", "https://e.com/s", "2017-10-18", False),  # htmldate alone
        ("", "https://e.com/2017/10/18/s", "2017-10-18", True),
        ("", "https://e.com/s", None, False),  # undated
    ],
)
def test_publication_date_trusted_needs_a_stated_date(head, url, htmldate_value, trusted):
    assert date_publication(tree(head), url, htmldate_value=htmldate_value).trusted is trusted


def test_publication_date_keeps_modification_apart():
    found = date_publication(
        tree(
            '<meta property="article:published_time" content="2017-10-16"><meta property="article:modified_time" content="2017-10-20">'
        ),
        "https://e.com/s",
    )
    assert (found.day, found.modified) == ("2017-10-16", "2017-10-20")


@pytest.mark.parametrize(
    "stamp, written, day, source",
    [
        # 23:15 UTC is the next day in Rome: the page's own written date says which
        ("2017-12-05T23:15:0Z", "06 Dicembre 2017", "2017-12-06", "json-ld"),
        ("2017-10-16T00:23:33Z", "15 octobre 2017", "2017-10-15", "json-ld"),
        # a stamp with the outlet's own offset is its local day already
        ("2017-12-05T23:15:00+01:00", "06 Dicembre 2017", "2017-12-05", "json-ld"),
        # two days away is no time zone: the stamp stands
        ("2017-12-05T23:15:00Z", "07 Dicembre 2017", "2017-12-05", "json-ld"),
    ],
)
def test_date_publication_utc_stamp_yields_to_the_written_local_day(stamp, written, day, source):
    head = f'<script type="application/ld+json">{{"@type": "NewsArticle", "datePublished": "{stamp}"}}</script>'
    found = date_publication(tree(head, f'<p itemprop="datePublished">{written}</p>'), "https://e.com/s")
    assert (found.day, found.source) == (day, source)


def test_normalise_date_reads_misspelt_iso_times():
    assert normalise_date("2017-12-05T23:15:0Z") == "2017-12-05T23:15:00+00:00"
    assert normalise_date("2017-12-05 9:05") == "2017-12-05T09:05:00"


@pytest.mark.parametrize(
    "url, instant",
    [
        # Alyssa Milano's "me too" tweet: Sunday 15 October 2017, 1:21 p.m. in Los Angeles.
        ("https://twitter.com/Alyssa_Milano/status/919659438700670976", "2017-10-15T20:21:"),
        ("https://x.com/Alyssa_Milano/status/919659438700670976?lang=en", "2017-10-15T20:21:"),
        ("https://twitter.com/Alyssa_Milano/status/12345", None),  # a pre-2010 counter, not a snowflake
        ("https://example.com/Alyssa_Milano/status/919659438700670976", None),
    ],
)
def test_date_from_status_id(url, instant):
    found = date_from_status_id(url)
    assert (found[:17] if found else None) == instant


def test_status_id_dates_a_tweet_page_over_htmldate():
    found = date_publication(tree(""), "https://twitter.com/Alyssa_Milano/status/919659438700670976", htmldate_value="2017-10-20")
    assert (found.day, found.source) == ("2017-10-15", "url")


@pytest.mark.parametrize(
    "zone, value, day, utc_day",
    [
        # 00:23 UTC is the evening before in Montreal
        ("America/Toronto", "2020-08-25T00:23:33+00:00", "2020-08-24", "2020-08-25"),
        # a time without offset is the outlet's local time: Tokyo is 9 hours ahead
        ("Asia/Tokyo", "2019-04-21T08:00:00+09:00", "2019-04-21", "2019-04-20"),
        ("Asia/Tokyo", "2019-04-21T08:00:00", "2019-04-21", "2019-04-20"),
        # no zone known: the stamp counts as written
        (None, "2020-08-25T00:23:33+00:00", "2020-08-25", "2020-08-25"),
        # a day alone has no UTC day
        ("Europe/Paris", "2020-08-25", "2020-08-25", None),
    ],
)
def test_date_publication_reads_stamps_on_the_outlets_clock(zone, value, day, utc_day):
    found = date_publication(
        tree(f'<meta property="article:published_time" content="{value}">'),
        "https://www.example.com/nouvelle/1728875/slug",
        time_zone=ZoneInfo(zone) if zone else None,
    )
    assert (found.day, found.utc_day) == (day, utc_day)
    if zone and len(value) > 10:  # the full time stamp kept, with the outlet's offset
        assert dt.datetime.fromisoformat(found.value).utcoffset() == ZoneInfo(zone).utcoffset(
            dt.datetime.fromisoformat(found.value).replace(tzinfo=None)
        )


def test_no_country_domain_sets_the_clock():
    """The zone is the outlet's (the topic file's), not one per country domain."""
    stamp = '<meta property="article:published_time" content="2020-08-25T00:23:33Z">'
    assert date_publication(tree(stamp), "https://ici.radio-canada.ca/nouvelle/1728875/slug").day == "2020-08-25"


def test_utc_stamp_is_read_on_the_offset_the_page_states_elsewhere():
    head = (
        '<meta property="article:published_time" content="2023-11-09T02:11:03Z">'
        '<meta property="article:modified_time" content="2023-11-08T23:10:51-05:00">'
    )
    found = date_publication(tree(head), "https://e.com/s")
    assert (found.day, found.value, found.utc_day) == ("2023-11-08", "2023-11-08T21:11:03-05:00", "2023-11-09")


def test_utc_stamp_gives_way_to_a_local_time_without_offset():
    head = (
        '<meta property="article:published_time" content="2016-12-23T00:47:31Z">'
        '<meta name="sailthru.date" content="2016-12-22 19:47:00">'
    )
    found = date_publication(tree(head), "https://e.com/s")
    assert (found.day, found.utc_day) == ("2016-12-22", "2016-12-23")


def test_midnight_utc_is_a_day_not_an_instant():
    found = date_publication(
        tree('<meta property="article:published_time" content="2016-11-28T00:00:00.000Z">'),
        "https://e.com/s",
        time_zone=ZoneInfo("America/New_York"),
    )
    assert (found.day, found.value, found.utc_day) == ("2016-11-28", "2016-11-28", None)


def test_og_article_published_time_is_read():
    head = (
        '<meta property="og:article:published_time" content="2016-12-14T06:02:15Z">'
        '<meta name="sailthru.date" content="2016-12-15T13:50:38Z">'
    )
    found = date_publication(tree(head), "https://e.com/s")
    assert (found.day, found.source) == ("2016-12-14", "meta:og:article:published_time")


@pytest.mark.parametrize(
    "htmldate_value, url, day, kind",
    [
        ("2022-01-01", "https://e.com/s", None, "year only"),  # a copyright year, not a day
        ("2022-01-01", "https://e.com/2022/01/01/new-year.html", "2022-01-01", "published"),
        ("2022-01-02", "https://e.com/s", "2022-01-02", "published"),
    ],
)
def test_a_year_alone_is_no_day(htmldate_value, url, day, kind):
    found = date_publication(tree(""), url, htmldate_value=htmldate_value)
    assert found.day == day
    assert next(c.kind for c in found.candidates if c.source == "htmldate") == kind


def test_each_rule_can_be_turned_off():
    """The ablation (benchmarks/ablation.py) turns rules off one at a time: off, each changes the answer here."""
    cases = {
        "json_ld": (
            '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2020-01-02"}</script>',
            "https://e.com/s",
            None,
        ),
        "meta_tags": ('<meta property="article:published_time" content="2020-01-02">', "https://e.com/s", None),
        "microdata": ('<time itemprop="datePublished" datetime="2020-01-02">2 Jan</time>', "https://e.com/s", None),
        "words_in_microdata": ('<time itemprop="datePublished">2 January 2020</time>', "https://e.com/s", None),
        "url": ("", "https://e.com/2020/01/02/s", None),
        "status_id": ("", "https://twitter.com/Alyssa_Milano/status/919659438700670976", None),
        "loose_iso": ('<meta property="article:published_time" content="2020-1-2 9:05">', "https://e.com/s", None),
        "htmldate": ("", "https://e.com/s", "2020-01-02"),
        "written_local_day": (
            '<meta property="article:published_time" content="2020-01-03T01:00:00Z">'
            '<time itemprop="datePublished">2 January 2020</time>',
            "https://e.com/s",
            None,
        ),
        "page_offset": (
            '<meta property="article:published_time" content="2020-01-03T01:00:00Z">'
            '<meta property="article:modified_time" content="2020-01-02T21:00:00-05:00">',
            "https://e.com/s",
            None,
        ),
        "midnight_utc": (
            '<meta property="article:published_time" content="2020-01-03T00:00:00Z">'
            '<meta property="article:modified_time" content="2020-01-02T21:00:00-05:00">',
            "https://e.com/s",
            None,
        ),
        "year_only": ("", "https://e.com/s", "2020-01-01"),
    }
    assert set(cases) == {f.name for f in dataclasses.fields(DatingRules)}
    for rule, (html_text, url, htmldate_value) in cases.items():
        page = tree("", html_text) if "<time" in html_text else tree(html_text)
        on = date_publication(page, url, htmldate_value=htmldate_value)
        off = date_publication(page, url, htmldate_value=htmldate_value, rules=dataclasses.replace(RULES, **{rule: False}))
        assert on.day != off.day, rule
