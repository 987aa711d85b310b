"""Publication dates with provenance, in the documented order of trust."""

import pytest
from lxml import html

from pipelines.dating import UNDATED, date_from_status_id, date_from_url, date_publication, normalise_date


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


def test_date_publication_outvoted_signal_loses():
    # JSON-LD is trusted first, but meta tags and htmldate agree on another day
    found = date_publication(
        tree('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2020-04-25T07:25:06+00:00"}</script>'
             '<meta property="article:published_time" content="2020-04-24T21:25:06+00:00">'),
        "https://e.com/s",
        htmldate_value="2020-04-24",
    )
    assert (found.day, found.source) == ("2020-04-24", "meta:article:published_time")


def test_date_publication_meta_tags_vote_once():
    found = date_publication(
        tree('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2020-04-25"}</script>'
             '<meta property="article:published_time" content="2020-04-24"><meta name="pubdate" content="2020-04-24">'),
        "https://e.com/s",
    )
    assert (found.day, found.source) == ("2020-04-25", "json-ld")


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
        tree('<meta property="article:published_time" content="2017-10-16"><meta property="article:modified_time" content="2017-10-20">'),
        "https://e.com/s",
    )
    assert (found.day, found.modified) == ("2017-10-16", "2017-10-20")


@pytest.mark.parametrize(
    "stamp, written, day, source",
    [
        # 23:15 UTC is the next day in Rome: the page's own written date says which
        ("2017-12-05T23:15:0Z", "06 Dicembre 2017", "2017-12-06", "microdata"),
        ("2017-10-16T00:23:33Z", "15 octobre 2017", "2017-10-15", "microdata"),
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


def test_utc_stamp_is_read_on_the_clock_of_the_sites_country():
    stamp = '<meta property="article:published_time" content="2020-08-25T00:23:33Z">'
    canadian = date_publication(tree(stamp), "https://ici.radio-canada.ca/nouvelle/1728875/slug")
    generic = date_publication(tree(stamp), "https://www.example.com/nouvelle/1728875/slug")
    assert canadian.day == "2020-08-24" and canadian.value.endswith("-04:00")
    assert generic.day == "2020-08-25"
