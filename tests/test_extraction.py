"""The shared extraction function, on saved pages."""

import json
from pathlib import Path

import lxml.etree
import pytest
from lxml import html as lxml_html

from pipelines.core.extraction import (
    NotAnArticle,
    _first_attribute,
    count_words,
    date_page,
    drop_inline_promotions,
    drop_leading_link_list,
    drop_trailing_chrome,
    extract_article,
    extract_body,
    fill_gaps,
    keep_sentences_whole,
    linked_headings,
    listing_reason,
    parse_html,
    stated_body,
    text_flags,
    with_recall,
)

from .conftest import THRESHOLDS

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
        extract_article(html, "https://example.com/x", min_words=THRESHOLDS.min_article_words)


TEASER = "The council voted on Tuesday to fund the new shelter after a long debate about its cost to the town."


def listing(links: list[str]) -> bytes:
    """A section front: cards of a linked headline over a teaser (no article metadata)."""
    cards = "".join(
        f"<div class='card'><h2><a href='{link}'>Story {i} of the day</a></h2><p>{TEASER} Teaser {i}.</p></div>"
        for i, link in enumerate(links)
    )
    return f"<html><head><title>Latest news</title></head><body><main><h1>Latest</h1>{cards}</main></body></html>".encode()


SECTION = listing([f"/2017/10/1{i}/story-{i}/" for i in range(6)])
# An article with no metadata at all, its headline a link to itself as many blogs write it.
PLAIN_ARTICLE = (
    "<html><head><title>Shelter funded</title></head><body><div class='post'>"
    "<h2><a href='/?p=123'>Shelter funded</a></h2>"
    + "".join(f"<p>{TEASER} Paragraph {i} says who spoke and what the members decided in the end.</p>" for i in range(5))
    + "</div></body></html>"
).encode()


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/",
        "https://example.com/index.html",
        "https://example.com/news/latest-stories",
        "https://example.com/?p=123",
    ],
)
def test_extract_article_rejects_a_listing_on_its_content_whatever_its_url(url):
    with pytest.raises(NotAnArticle, match=r"listing page: \d linked headlines with teasers"):
        extract_article(SECTION, url)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/",
        "https://example.com/?p=123",
        "https://example.com/article/3834/1",
        "https://example.com/2008/09/lean-startup.html",
        "https://example.com/index.php",
    ],
)
def test_extract_article_keeps_an_article_whatever_its_url(url):
    article = extract_article(PLAIN_ARTICLE, url)
    assert article.word_count > 100 and article.text.startswith("The council voted")


def test_extract_article_keeps_a_list_of_cards_that_link_to_other_sites():
    """A list of events or products, each linking to its own site, is the page's content, not a
    front page of the site's own stories."""
    page = listing([f"https://event{i}.example/2017/" for i in range(6)])
    assert extract_article(page, "https://example.com/events").word_count > 60


def test_listing_reason_needs_teasers_to_make_up_half_the_text():
    body = "".join(f"<p>{TEASER} Paragraph {i} of the article itself, longer than the cards.</p>" for i in range(8))
    cards = "".join(f"<div><h3><a href='/s{i}'>Story {i}</a></h3><p>{TEASER}</p></div>" for i in range(3))
    tree = html_page(f"<article>{body}</article><aside>{cards}</aside>")
    text = "\n".join(tree.xpath("//p/text()"))
    assert listing_reason(tree, text) is None
    assert listing_reason(tree, "\n".join([TEASER] * 3)) == "listing page: 3 linked headlines with teasers make up the text"


def test_linked_headings_finds_what_the_xpath_finds():
    html = (
        "<html><body><h1>Story</h1><h2><a href='/a'>One</a></h2><a href='/b'><h3>Two</h3></a>"
        "<a name='x'><h4>Anchor</h4></a><h5><a>No address</a></h5><div><h6><span><a href='#'>Three</a></span></h6></div>"
        "</body></html>"
    )
    tree = lxml_html.fromstring(html)
    xpath = "//*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6][.//a[@href] or ancestor::a[@href]]"
    assert [h.text_content() for h in linked_headings(tree)] == [h.text_content() for h in tree.xpath(xpath)]
    assert [h.text_content() for h in linked_headings(tree)] == ["One", "Two", "Three"]


def test_extract_article_decodes_declared_charset():
    body = "<p>" + "Les actrices ont témoigné contre le producteur à Paris. " * 20 + "</p>"
    html = f"<html><head><meta charset='windows-1252'></head><body><article>{body}</article></body></html>"
    article = extract_article(html.encode("windows-1252"), "https://example.fr/2017/10/17/temoignages")
    assert "témoigné" in article.text
    assert article.language == "fr"


XHTML = (
    '<?xml version="1.0" encoding="{encoding}"?>\n'
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
    '<html xmlns="http://www.w3.org/1999/xhtml" lang="fr"><head><title>Témoignages</title>'
    '<meta property="article:published_time" content="2017-10-17T10:40:00+02:00" /></head>'
    "<body><article><h1>Témoignages</h1>{paragraphs}</article></body></html>"
)


@pytest.mark.parametrize("encoding", ["utf-8", "iso-8859-1", "windows-1252"])
def test_extract_article_reads_a_page_opening_with_an_xml_declaration(encoding):
    paragraphs = "".join(
        f"<p>Les actrices ont témoigné contre le producteur à Paris, a-t-on appris mardi soir ({i}).</p>" for i in range(12)
    )
    html = XHTML.format(encoding=encoding, paragraphs=paragraphs)
    for page in (html.encode(encoding), html):  # as fetched, and as text already decoded
        article = extract_article(page, "https://example.fr/temoignages")
        assert article.text.startswith("Les actrices ont témoigné contre le producteur à Paris")
        assert article.published.day == "2017-10-17" and article.language == "fr"


def test_parse_html_gives_html_elements_that_the_readers_copy_rather_than_change():
    """htmldate and trafilatura copy a tree of lxml.html elements before they prune it (and prune
    anything else in place): parse_html's elements, forms included, are lxml.html's."""
    paragraphs = "".join(f"<p>The producer was accused by several actresses on Tuesday ({i}).</p>" for i in range(12))
    html = f"<html><body><form><input name='q'></form><div class='story'>{paragraphs}</div><!-- note --></body></html>"
    tree = parse_html(html)
    assert all(isinstance(element, lxml_html.HtmlElement) for element in tree.iter(lxml.etree.Element))
    before = lxml_html.tostring(tree)
    assert date_page(tree, "https://example.org/story").value is None  # htmldate searched the page
    assert extract_body(tree, "https://example.org/story").startswith("The producer was accused")
    assert lxml_html.tostring(tree) == before


@pytest.mark.parametrize(
    "text, words", [("One two three", 3), ("Café au lait, s’il vous plaît", 6), ("東京 Tokyo 大阪市", 4), ("", 0)]
)
def test_count_words_counts_cjk_at_two_characters_a_word(text, words):
    assert count_words(text) == words


def test_extract_article_takes_from_recall_mode_what_precision_mode_dropped_inside_the_article():
    """trafilatura's precision mode drops a list item that opens with an empty element (it
    deletes the element with the text that follows it); its recall mode keeps the list."""
    paragraphs = "".join(f"<p>{TEASER} Paragraph {i} says who spoke and what was decided.</p>" for i in range(4))
    items = "".join(
        f"<li><span></span>Ward {i} gets forty new beds, a kitchen, a laundry and a night staff of three from the first of May.</li>"
        for i in range(8)
    )
    html = f"<html><body><article><h1>Shelter</h1>{paragraphs}<p>The plan gives:</p><ul>{items}</ul><p>{LONG}</p></article></body></html>"
    text = extract_article(html, "https://example.com/shelter").text
    assert "The plan gives:\n- Ward 0 gets forty new beds" in text and "- Ward 7 gets" in text
    assert text.index("Ward 7") < text.index(LONG.strip()[:40])


def test_with_recall_takes_recall_whole_only_where_precision_kept_a_stub():
    page = html_page("<p>" + "Word of the page. " * 100 + "</p>")  # 400 words
    teaser, article = "Teaser line.", "Teaser line.\nThe whole article, which precision missed."
    assert with_recall(teaser, "Menu.\n" + article, page) == "Menu.\n" + article  # 2 words of 400: a stub
    kept = "Teaser line. " + "Word of the page. " * 30  # 122 words of 400: not a stub, gaps only
    assert with_recall(kept, "Menu.\n" + kept + "\nMore.", page) == kept


@pytest.mark.parametrize(
    "precise, recall, expected",
    [
        # a line recall found between two of precision's lines goes in, in its place
        ("One.\nThree.", "One.\nTwo.\nThree.", "One.\nTwo.\nThree."),
        # what recall adds before precision's first line or after its last stays out
        ("One.\nTwo.", "Teaser.\nOne.\nTwo.\nRelated story teaser.", "One.\nTwo."),
        # a list item dropped between two paragraphs
        ("One.\nThree.", "One.\n- An item\nThree.", "One.\n- An item\nThree."),
        # the same paragraph written a little differently (a link's words kept) is not doubled
        (
            f"One.\nMarch 16 Atlanta {TEASER}\nThree.",
            f"One.\nMarch 16 FABCON Atlanta {TEASER}\nThree.",
            f"One.\nMarch 16 Atlanta {TEASER}\nThree.",
        ),
        # no line of precision's text is lost, even one recall lacks
        ("One.\nOnly here.\nThree.", "One.\nTwo.\nThree.", "One.\nTwo.\nOnly here.\nThree."),
        ("One.", "Other.\nText.", "One."),
    ],
)
def test_fill_gaps_adds_recall_lines_inside_the_article_only(precise, recall, expected):
    assert fill_gaps(precise, recall) == expected


BODY = "The council voted on Tuesday to fund the new shelter, after a long debate.\nIt opens in May."


@pytest.mark.parametrize(
    "tail",
    [
        "Subscribe to our newsletter for the day's top stories.",
        "Copyright 2019 The Gazette. All rights reserved.",
        "Follow her on Twitter @reporter.",
        "Mayor resigns over budget\nSchool board elects new chair\nRiver flood warning lifted",
        "Tell us what you think...\n 12 comments",
        '[button link="/submit/"] Send us your review[/button]',
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
# A site's preview of an article: its first lines, cut mid-sentence.
CUT_PREVIEW = "The council met on Tuesday and voted to fund the new shelter.\nThe mayor said the money would…"


def html_page(body: str, head: str = "") -> lxml_html.HtmlElement:
    return lxml_html.fromstring(f"<html><head>{head}</head><body>{body}</body></html>")


def json_ld(**fields) -> str:
    return f'<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", **fields})}</script>'


@pytest.mark.parametrize(
    "text, head, flags",
    [
        (LONG, "", []),
        ("A short brief of a few words.", "", ["thin"]),
        (CUT_PREVIEW, "", ["thin", "truncated"]),
        (LONG + "\nAnd then, at last, the lights went out…", "", []),  # a last line that trails off
        (LONG + "\nLoading Comments...", "", []),  # a widget's line left at the end
        (LONG + "\nSubscribe now to continue reading.", "", ["paywalled"]),
        (CUT_PREVIEW, json_ld(isAccessibleForFree=False), ["thin", "paywalled", "truncated"]),
        (CUT_PREVIEW, json_ld(isAccessibleForFree="False"), ["thin", "paywalled", "truncated"]),
        (LONG, json_ld(isAccessibleForFree=False), []),  # a metered page saved past its paywall: all there
        (LONG, json_ld(articleBody=LONG * 3), ["truncated"]),  # the page shows a third of its body
    ],
)
def test_text_flags_name_what_is_missing(text, head, flags):
    tree = html_page("<p>x</p>", head)
    assert text_flags(text, tree, THRESHOLDS.thin_words, stated_body(tree)) == flags


def test_text_flags_truncated_tells_a_teaser_from_an_article_that_ends_in_an_ellipsis():
    """An ellipsis alone is no evidence: complete articles end in one too. A short text cut
    mid-sentence is a teaser; a long one whose last sentence trails off is the article."""
    tree = html_page("<p>x</p>")
    complete = LONG + "\nWhat comes next, nobody on the council could say…"
    assert "truncated" in text_flags(CUT_PREVIEW, tree, THRESHOLDS.thin_words)
    assert "truncated" not in text_flags(complete, tree, THRESHOLDS.thin_words)


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


def test_keep_sentences_whole_unwraps_links_and_drops_hover_cards():
    tree = html_page(
        '<p>Reports say <span class="link"><a href="/fine">the league will fine him</a></span> for it. '
        'Rep. <span class="people"><a href="/p/jane">Jane Roe</a><span class="card"><img src="j.jpg">'
        '<a href="/p/jane">Jane Roe</a><a href="/story/1">Another headline</a></span></span> spoke.</p>'
    )
    paragraph = keep_sentences_whole(tree).xpath("//p")[0]
    assert paragraph.text_content() == "Reports say the league will fine him for it. Rep. Jane Roe spoke."
    assert not paragraph.xpath(".//span[@class='link']")


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
