"""Canonical URLs for dedupe."""

import pytest

from pipelines.canonical import canonical_url


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
