"""The shared extraction function, on saved pages."""

import json
from pathlib import Path

import pytest
from lxml import html as lxml_html

from pipelines.extraction import (
    NotAnArticle,
    _first_attribute,
    drop_inline_promotions,
    drop_leading_byline,
    drop_leading_link_list,
    drop_trailing_chrome,
    extract_article,
    keep_sentences_whole,
    stated_body,
    text_flags,
)

PAGES = Path(__file__).parent / "pages"


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def test_extract_article_reads_text_title_and_language():
    article = extract_article(page("jsonld_article.html"), "https://www.testgazette.example/2017/10/10/accusers/")
    assert article.title == "Accusers describe years of abuse"
    assert article.text.startswith("Thirteen women told the magazine")
    assert "cookies" not in article.text and "Related" not in article.text
    assert article.language == "en"
    assert article.sitename == "The Test Gazette"


def test_extract_article_dates_from_json_ld_with_its_source():
    article = extract_article(page("jsonld_article.html"), "https://www.testgazette.example/accusers")
    assert article.published.value == "2017-10-10T22:15:00-04:00"
    assert article.published.day == "2017-10-10"  # the day as published, not converted to UTC
    assert article.published.source == "json-ld"
    kinds = {(c.source, c.kind) for c in article.published.candidates}
    assert ("json-ld", "modified") in kinds and ("meta:article:modified_time", "modified") in kinds


def test_extract_article_keeps_canonical_hint():
    article = extract_article(page("jsonld_article.html"), "https://www.testgazette.example/accusers?utm_source=x")
    assert article.canonical_hint == "https://www.testgazette.example/2017/10/10/accusers/"


@pytest.mark.parametrize(
    "html, reason",
    [
        (b"", "empty page"),
        (b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "no article text|too little text"),
        (b"<html><body><article><p>" + b"word " * 20 + b"</p></article></body></html>", "too little text"),
    ],
)
def test_extract_article_rejects_non_articles_with_reason(html, reason):
    with pytest.raises(NotAnArticle, match=reason):
        extract_article(html, "https://example.com/x")


LISTING = (
    "<html><head><meta property='og:type' content='website'></head><body><ul>"
    + "".join(f"<li><a href='/s{i}'>Story {i}</a><p>{'Teaser text about the council budget. ' * 4}</p></li>" for i in range(12))
    + "</ul></body></html>"
).encode()


@pytest.mark.parametrize(
    "url, reason",
    [
        ("https://example.com/", "site front page"),
        ("https://example.com/index.html", "site front page"),
        ("https://example.com/culture/", "neither an article URL nor article metadata"),
    ],
)
def test_extract_article_rejects_listing_pages(url, reason):
    with pytest.raises(NotAnArticle, match=reason):
        extract_article(LISTING, url)


@pytest.mark.parametrize("url", ["https://example.com/2017/10/16/story", "https://example.com/news/council-approves-new-budget", "https://example.com/a/30657941.html"])
def test_extract_article_keeps_article_urls_without_metadata(url):
    assert extract_article(LISTING, url).word_count > 40


def test_extract_article_decodes_declared_charset():
    body = "<p>" + "Les actrices ont témoigné contre le producteur à Paris. " * 20 + "</p>"
    html = f"<html><head><meta charset='windows-1252'></head><body><article>{body}</article></body></html>"
    article = extract_article(html.encode("windows-1252"), "https://example.fr/2017/10/17/temoignages")
    assert "témoigné" in article.text
    assert article.language == "fr"


BODY = "The council voted on Tuesday to fund the new shelter, after a long debate.\nIt opens in May."


@pytest.mark.parametrize(
    "tail",
    [
        "Subscribe to our newsletter for the day's top stories.",
        "Copyright 2019 The Gazette. All rights reserved.",
        "Follow her on Twitter @reporter.",
        "Mayor resigns over budget\nSchool board elects new chair\nRiver flood warning lifted",
        "Tell us what you think...\n 12 comments",
        "[button link=\"/submit/\"] Send us your review[/button]",
        "Updated at 1:23 p.m.",
    ],
)
def test_drop_trailing_chrome_removes_calls_to_action_and_link_lists(tail):
    assert drop_trailing_chrome(f"{BODY * 3}\n{tail}") == BODY * 3


@pytest.mark.parametrize(
    "text",
    [
        BODY,
        f"{BODY}\nA closing sentence without chrome.",
        f"{BODY}\nTwo short lines\nare no list",  # a run of two headline-like lines stays
        "One line\nSubscribe to our newsletter.",  # would cut more than a third of the text
    ],
)
def test_drop_trailing_chrome_keeps_the_body(text):
    assert drop_trailing_chrome(text) == text


LONG = "The council met on Tuesday and voted to fund the new shelter after a long debate. " * 20


def html_page(body: str, head: str = "") -> lxml_html.HtmlElement:
    return lxml_html.fromstring(f"<html><head>{head}</head><body>{body}</body></html>")


def json_ld(**fields) -> str:
    return f'<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", **fields})}</script>'


@pytest.mark.parametrize(
    "text, head, flags",
    [
        (LONG, "", []),
        ("A short brief of a few words.", "", ["thin"]),
        (LONG + "\nThe mayor said the money would…", "", ["truncated"]),
        (LONG + "\nSubscribe now to continue reading.", "", ["paywalled"]),
        (LONG, json_ld(isAccessibleForFree=False), ["paywalled"]),
        (LONG, json_ld(isAccessibleForFree="False"), ["paywalled"]),
        (LONG, json_ld(articleBody=LONG * 3), ["truncated"]),  # the page shows a third of its body
    ],
)
def test_text_flags_name_what_is_missing(text, head, flags):
    tree = html_page("<p>x</p>", head)
    assert text_flags(text, tree, stated_body(tree)) == flags


@pytest.mark.parametrize(
    "article_body, expected",
    [
        ("First paragraph.\n\n  Second one.  ", "First paragraph.\nSecond one."),
        ("<p>First &amp; only.</p><p>Second.</p>", "First & only.\nSecond."),
        ("", ""),
    ],
)
def test_stated_body_reads_json_ld_article_body(article_body, expected):
    assert stated_body(html_page("", json_ld(articleBody=article_body))) == expected


def test_extract_article_takes_the_stated_body_when_the_page_shows_little():
    head = json_ld(headline="Shelter funded", articleBody=LONG)
    page_html = f"<html><head>{head}</head><body><article><p>{'Only a teaser of the story here. ' * 4}</p></article></body></html>"
    article = extract_article(page_html, "https://example.com/2017/10/16/shelter-funded", min_words=0)
    assert article.text == LONG.strip()
    assert article.text_flags == ["json-ld body"]


LINKS = "Mayor resigns over the budget\nSchool board elects a new chair\nRiver flood warning lifted again\n"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Mayor resigns over budget\nSchool board elects new chair\nRiver flood warning lifted\n" + BODY * 3, BODY * 3),
        ("Two short lines\nare no list\n" + BODY, "Two short lines\nare no list\n" + BODY),
        (LINKS + BODY, LINKS + BODY),  # the "links" would be over a third of the text
    ],
)
def test_drop_leading_link_list_removes_links_above_the_body(text, expected):
    assert drop_leading_link_list(text) == expected


@pytest.mark.parametrize(
    "line, dropped",
    [
        ("READ MORE: Council approves the budget", True),
        ("Related: Ten things to know about the shelter", True),
        ("Flood waters rise in the valley [VIDEO]", True),
        ("Residents said they would read more about the plan.", False),
        ("The video [shown below] was filmed on Tuesday.", False),
    ],
)
def test_drop_inline_promotions_removes_links_inside_the_body(line, dropped):
    text = f"{BODY}\n{line}\n{BODY}"
    assert (drop_inline_promotions(text) == f"{BODY}\n{BODY}") is dropped


@pytest.mark.parametrize(
    "head, body",
    [
        ('<meta property="og:title" content="First"><meta property="og:title" content="Second">', ""),
        ('<meta property="og:title"><meta property="og:title" content="Has content">', ""),
        ('<meta name="og:title" content="Wrong key"><meta property="og:title" content=" ">', ""),
        ("", '<meta property="og:title" content="In the body">'),
        ('<meta property="og:url" content="/a">', ""),
    ],
)
def test_first_attribute_finds_what_the_xpath_finds_first(head, body):
    tree = html_page(body, head)
    found = tree.xpath('//meta[@property="og:title"]/@content')
    assert _first_attribute(tree, "meta", ("property", "og:title"), "content") == (found[0] if found else None)
