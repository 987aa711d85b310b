"""Canonical URLs for dedupe."""

import pytest

from pipelines.core.canonical import canonical_url, web_url


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://www.e.com/2017/10/16/story/?utm_source=rss&utm_medium=feed", "https://www.e.com/2017/10/16/story/"),
        ("https://m.e.com/2017/10/16/story/amp/", "https://www.e.com/2017/10/16/story"),
        ("https://e.com/a/story.amp.html?id=5&fbclid=abc", "https://e.com/a/story.html?id=5"),
        ("HTTP://E.COM:80/A/", "http://e.com/A/"),
        ("http://127.0.0.1:8123/2017/10/16/x/", "http://127.0.0.1:8123/2017/10/16/x/"),
        ("https://e.com/story?b=2&a=1#comments", "https://e.com/story?a=1&b=2"),
    ],
)
def test_canonical_url_normalises_variants(url, expected):
    assert canonical_url(url) == expected


def test_canonical_url_trusts_declared_canonical_on_same_site_only():
    assert canonical_url("https://www.e.com/x?ref=a", "https://e.com/story/") == "https://e.com/story/"
    assert canonical_url("https://copy.com/story", "https://original.com/story") == "https://copy.com/story"


# What a hostile page may declare as its canonical URL or og:url: none of these may become
# the URL an archived article links to (a link a reader clicks in the reading view).
HOSTILE_URLS = [
    "javascript://www.e.com/%0aalert(document.domain)",
    "JaVaScRiPt://www.e.com/%0aalert(1)",
    "vbscript://www.e.com/%0amsgbox(1)",
    "data://www.e.com/text/html,<script>alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    " javascript://www.e.com/%0aalert(1)",
    "\x01javascript://www.e.com/%0aalert(1)",
    "java\tscript://www.e.com/%0aalert(1)",
    "javascript&#58;//www.e.com/%0aalert(1)",
    "file://www.e.com/etc/passwd",
    "ftp://www.e.com/story",
    "//www.e.com/story",
    "http:/story",
    "https://",
    "https://www.e.com/story\nx",
    "https://www.e.com/sto ry",
]


@pytest.mark.parametrize("declared", HOSTILE_URLS)
def test_canonical_url_ignores_a_declared_url_that_is_not_http(declared):
    assert canonical_url("https://www.e.com/story/", declared) == "https://www.e.com/story/"


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_web_url_refuses_what_is_not_an_http_address(url):
    assert web_url(url) is None


@pytest.mark.parametrize("url", ["https://www.e.com/story/", "http://127.0.0.1:8123/x?a=1", "HTTPS://E.COM/A"])
def test_web_url_keeps_http_addresses(url):
    assert web_url(url) == url
