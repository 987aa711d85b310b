"""Titles and authors as the page presents them (pipelines/core/metadata.py)."""

import dataclasses

import pytest
from lxml import html as lxml_html
from trafilatura import metadata as trafilatura_metadata

from pipelines.core.metadata import (
    METADATA_RULES,
    MetadataRules,
    SiteNames,
    clean_title,
    page_author,
    page_metadata,
    split_authors,
)


def html_page(body: str, head: str = "") -> lxml_html.HtmlElement:
    return lxml_html.fromstring(f"<html><head>{head}</head><body>{body}</body></html>")


@pytest.mark.parametrize(
    "byline, names",
    [
        ("By Jane Doe and John Roe", ["Jane Doe", "John Roe"]),
        ("Jane Doe; John Roe", ["Jane Doe", "John Roe"]),
        ("Howard Schneider, Lindsay Dunsmuir", ["Howard Schneider", "Lindsay Dunsmuir"]),
        ("Par Marie Dupont et Luc Martin", ["Marie Dupont", "Luc Martin"]),
        ("Tom Krisher, AP Auto Writer", ["Tom Krisher"]),
        ("By Tom Krisher AP Auto Writer", ["Tom Krisher"]),
        ("Jane Doe, Senior White House Correspondent; John Roe", ["Jane Doe", "John Roe"]),
        ("Staff Writer", []),
        ("JANE DOE, STAFF WRITER", ["JANE DOE"]),
        ("JANE DOE STAFF WRITER", ["JANE DOE"]),
        ("Jane DoeJohn Roe", ["Jane Doe", "John Roe"]),
        ("Mary McDonald", ["Mary McDonald"]),
        ("Ronan DeShawn Smith", ["Ronan DeShawn Smith"]),
        (None, []),
        # "Surname, Given" is one person
        ("Gillman, Steve", ["Steve Gillman"]),
        ("Smith, John A.", ["John A. Smith"]),
        # organisations are not people
        ("ABC News", []),
        ("AOL Staff", []),
        ("Sam Stein; The Huffington Post", ["Sam Stein"]),
        ("Paul Wiseman, The Associated Press", ["Paul Wiseman"]),
        ("Joe Davidson Washington Post", ["Joe Davidson"]),
        ("Meg Wagner NEW YORK DAILY NEWS", ["Meg Wagner"]),
        # what a byline element holds beside the names
        ("Oli Coleman View author archive Get author RSS feed", ["Oli Coleman"]),
        ("Jeremy Herron More stories by Jeremy Herron", ["Jeremy Herron"]),
        ("Steven Shepard Link Copied", ["Steven Shepard"]),
        ("Laura E. Adkins December 28, 2016", ["Laura E. Adkins"]),
        ("Saibal Dasgupta / TNN / Updated: Oct 9, 2019, 11:05 IST", ["Saibal Dasgupta"]),
        ("Mike Cason | mcason@al.com", ["Mike Cason"]),
        ("Alyssa Newcomb is an NBC News technology reporter", ["Alyssa Newcomb"]),
        ("| Lesedauer: 8 Minuten Melanie Wassink", ["Melanie Wassink"]),
        ("Ellyn Shook Ellyn Shook Creating the most truly human company", ["Ellyn Shook"]),
        ("Ysabel Yates; Illustration by Claire Lordon", ["Ysabel Yates"]),
        ("April Glaser", ["April Glaser"]),  # a month's name, as a first name
        ("Lisa de Moraes", ["Lisa de Moraes"]),
        ("By: Jane Doe", ["Jane Doe"]),
        ("Par Marie Dupont (Bruxelles, bureau européen)", ["Marie Dupont"]),
        ("Jane Doe Illustration by John Roe", ["Jane Doe"]),
        ("Posted on December 19 by Jane Doe", ["Jane Doe"]),
        # a prompt's sentence, not a byline: no name in it
        ("Click Here for More on JANE DOE", []),
        ("Click Here", []),
    ],
)
def test_split_authors_gives_people(byline, names):
    assert split_authors(byline) == names


def test_split_authors_keeps_a_person_named_like_a_short_host():
    assert split_authors("Al Baker", SiteNames.of(None, "https://www.al.com/news/story.html")) == ["Al Baker"]


def test_split_authors_drops_the_site_and_its_desk():
    site = SiteNames.of("CBC", "https://www.cbc.ca/news/business/story-1.6616634")
    assert split_authors("Pete Evans · CBC News", site) == ["Pete Evans"]
    buzzfeed = SiteNames.of(None, "https://www.buzzfeed.com/ikrandahir/story")
    assert split_authors("by Ikran Dahir BuzzFeed UK News Fellow", buzzfeed) == ["Ikran Dahir"]


@pytest.mark.parametrize(
    "title, site, url, expected",
    [
        ("Headline here | The Gazette", "The Gazette", None, "Headline here"),
        ("The Gazette - Headline here", "The Gazette", None, "Headline here"),
        ("Headline: with a colon", "The Gazette", None, "Headline: with a colon"),
        ("Headline here", None, None, "Headline here"),
        ("Headline here | Inexhibit", "Inexhibit magazine", None, "Headline here"),
        ("Headline here | The Guardian view | Editorial", "the Guardian", None, "Headline here | The Guardian view | Editorial"),
        ("Headline - with a dash", "The Gazette", None, "Headline - with a dash"),
        ("Council funds the shelter - NJ.com", None, "https://www.nj.com/news/2019/11/shelter.html", "Council funds the shelter"),
        ("Reuters | Council funds the shelter", None, "https://www.reuters.com/article/shelter", "Council funds the shelter"),
        (
            "Council funds the shelter - Reuters poll",
            None,
            "https://www.reuters.com/article/shelter",
            "Council funds the shelter - Reuters poll",
        ),
        # however the site's name is written: another form than the host's, with a section,
        # accents, full-width separators, two segments
        (
            "Housing market slowdown continues | CBC News",
            None,
            "https://www.cbc.ca/news/business/x",
            "Housing market slowdown continues",
        ),
        (
            "Why Donald Trump won't change | CNN Politics",
            None,
            "https://www.cnn.com/2016/11/29/politics/x",
            "Why Donald Trump won't change",
        ),
        ("Les sombres perspectives - Le Monde.fr", "Le Monde", "https://www.lemonde.fr/x", "Les sombres perspectives"),
        ("L'affaire | Rédaction Numérique", "Redaction numerique", None, "L'affaire"),
        (
            "メディア芸術祭賞が受賞：朝日新聞デジタル",
            "朝日新聞デジタル",
            "https://www.asahi.com/articles/x.html",
            "メディア芸術祭賞が受賞",
        ),
        (
            "気軽に新聞をスクラップできる ｜ ガジェット通信 GetNews",
            None,
            "https://getnews.jp/archives/1",
            "気軽に新聞をスクラップできる",
        ),
        ("Headline | World | The Gazette", "The Gazette", None, "Headline | World"),
    ],
)
def test_clean_title_drops_site_name(title, site, url, expected):
    assert clean_title(title, SiteNames.of(site, url)) == expected


@pytest.mark.parametrize(
    "head, body, title",
    [
        # the headline on the page, when it agrees with a declared title, rather than the social one
        (
            '<meta property="og:title" content="Zsa Zsa Gabor\'s Palm Springs home is for sale and it\'s pure paradise">',
            "<h1>Take a tour inside Zsa Zsa Gabor's former Palm Springs retreat — it's for sale!</h1>",
            "Take a tour inside Zsa Zsa Gabor's former Palm Springs retreat — it's for sale!",
        ),
        # the <title> with the site's name agrees with the h1
        (
            "<title>Ahmad Khan Rahami Is Arrested - The New York Times</title>"
            '<meta property="og:title" content="Ahmad Khan Rahami Is Arrested (Published 2016)">',
            "<h1>Ahmad Khan Rahami Is Arrested</h1>",
            "Ahmad Khan Rahami Is Arrested",
        ),
        # an h1 that is the site's logo, or a sidebar's, agrees with nothing: the declared title
        (
            '<meta property="og:title" content="Hillary Clinton Gets More Faithless Electors">',
            "<h1>The Political Insider</h1><h1>Most popular</h1>",
            "Hillary Clinton Gets More Faithless Electors",
        ),
        # of several headlines, the one agreeing with the most trusted declared title
        (
            "<title>Millennial Decorating Mistakes | POPSUGAR Home</title>"
            '<meta property="og:title" content="The 5 Biggest Decorating Mistakes Millennials Make">',
            "<h1>Millennial Decorating Mistakes</h1><h1>The 5 Biggest Decorating Mistakes Millennials Make</h1>",
            "The 5 Biggest Decorating Mistakes Millennials Make",
        ),
    ],
)
def test_page_metadata_title_is_the_headline_on_the_page(head, body, title):
    assert page_metadata(html_page(body, head), "https://www.example.com/story").title == title


@pytest.mark.parametrize(
    "head, body, authors",
    [
        # the most specific meta tag names the person, the generic one the publisher
        (
            '<meta name="author" content="Condé Nast"><meta property="article:author" content="Emma Grey Ellis">',
            "",
            ["Emma Grey Ellis"],
        ),
        # a profile URL names nobody; the organisation in the author tag is no person: the byline
        (
            '<meta property="article:author" content="https://www.example.com/profile/x"><meta name="author" content="ABC News">',
            '<div class="byline">By Josh Haskell, DAVID CAPLAN and PATRICK REEVELL Dec 16, 2016, 4:19 PM ET</div>',
            ["Josh Haskell", "DAVID CAPLAN", "PATRICK REEVELL"],
        ),
        # every author the byline links to, not only the first
        (
            "",
            '<address><div><a rel="author" href="/profile/jcw">Julia Carrie Wong</a> and '
            '<a rel="author" href="/profile/sl">Sam Levin</a></div></address>',
            ["Julia Carrie Wong", "Sam Levin"],
        ),
        # a byline in words, whatever its markup
        ("", '<div class="x1"><span>By </span><a href="/people/teresa-newsome">Teresa Newsome</a></div>', ["Teresa Newsome"]),
        # schema.org: people, not the publisher
        (
            '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle", "author": '
            '[{"@type": "Person", "name": "Jane Doe"}, {"@type": "Organization", "name": "The Gazette News"}]}</script>',
            "",
            ["Jane Doe"],
        ),
    ],
)
def test_page_metadata_authors_are_the_people_credited(head, body, authors):
    assert page_metadata(html_page(body, head), "https://www.example.com/story").authors == authors


HEADLINE = '<meta property="og:title" content="Council funds the shelter">'


@pytest.mark.parametrize(
    "body, authors",
    [
        # the byline below the headline, not the bylines of related stories further down
        (
            "<h1>Council funds the shelter</h1><p><span>By Jane Doe</span></p><p>The council voted on Monday.</p>"
            '<div><h3>Related</h3><a class="byline" href="/x">John Roe</a><a class="byline" href="/y">Max Poe</a></div>',
            ["Jane Doe"],
        ),
        # every author linked below the headline, though the page marks only the last one
        (
            '<h1>Council funds the shelter</h1><div><a href="/by/jane-doe">Jane Doe</a> and '
            '<a href="/by/john-roe"><span class="last-byline">John Roe</span></a></div>',
            ["Jane Doe", "John Roe"],
        ),
        # a wrapper holding the headline is the article's, whatever its class says
        (
            '<div class="content-sidebar-wrap"><article><h1>Council funds the shelter</h1>'
            '<p class="entry-meta">By <a href="/author/jane-doe/">Jane Doe</a> on December 23</p>'
            "<p>The council voted on Monday.</p></article></div>",
            ["Jane Doe"],
        ),
        # the author's link inside a byline that also holds a date and a job title
        (
            '<h1>Council funds the shelter</h1><div class="byline">December 19, 2016 <span class="author">'
            '<a rel="author" href="/author/jane-doe">Jane Doe</a> Twitter</span> News &amp; Culture Writer</div>'
            '<p>The council voted on Monday.</p><div class="related"><ul><li><a class="author-name" href="/x">John Roe</a></li></ul></div>',
            ["Jane Doe"],
        ),
        # far below the headline, past the body's text, is no byline of the article
        (
            '<div><span class="author">John Roe</span></div><h1>Council funds the shelter</h1>'
            "<p>" + "The council voted on Monday. " * 30 + "</p><p>By Jane Doe</p>",
            ["John Roe"],
        ),
        # a link to a person's page in a sentence names who the story is about
        (
            '<h1>Council funds the shelter</h1><p><a href="/people/jane-doe/">Jane Doe</a> said on Monday that '
            "the council would fund the shelter for another year, after months of talks with the city and the charity.</p>",
            [],
        ),
    ],
)
def test_page_metadata_authors_are_read_below_the_headline(body, authors):
    assert page_metadata(html_page(body, HEADLINE), "https://www.example.com/story").authors == authors


def test_page_metadata_authors_are_read_below_the_first_headline_when_none_agrees():
    """An SEO <title> agrees with no headline: the byline below the page's first headline still counts."""
    page = html_page(
        "<h1>Council funds the shelter</h1><p><span>By Jane Doe</span></p><p>The council voted on Monday.</p>"
        '<div><h3>Related</h3><a class="byline" href="/x">John Roe</a></div>',
        "<title>Shelters, councils and charities: all our coverage</title>",
    )
    assert page_metadata(page, "https://www.example.com/story").authors == ["Jane Doe"]


def test_page_metadata_takes_a_malformed_url():
    page = html_page("<h1>Council funds the shelter</h1>", "<title>Council funds the shelter | Gazette</title>")
    assert page_metadata(page, "http://[broken/story").title == "Council funds the shelter"


def test_each_rule_can_be_turned_off():
    """The ablation (benchmarks/ablation.py) turns rules off one at a time: off, each changes the answer here."""
    cases = {
        "page_headline": (
            '<meta property="og:title" content="Zsa Zsa Gabor\'s Palm Springs home is for sale">',
            "<h1>Take a tour inside Zsa Zsa Gabor's Palm Springs home</h1>",
        ),
        "site_name_variants": ('<meta property="og:title" content="Housing market slowdown continues | Example News">', ""),
        "meta_authors": ('<meta name="author" content="Jane Doe">', '<span class="byline">John Roe</span>'),
        "all_bylines": ("", '<p><a rel="author" href="/a">Jane Doe</a> and <a rel="author" href="/b">John Roe</a></p>'),
        "organisations_out": ('<meta name="author" content="Associated Press">', ""),
        "clutter_out": ('<meta name="author" content="Jane Doe View author archive">', ""),
        "surname_given": ('<meta name="author" content="Doe, Jane">', ""),
        "job_titles_out": ('<meta name="author" content="Jane Doe, Political Columnist">', ""),
        "headline_byline": (HEADLINE, '<h1>Council funds the shelter</h1><p>By Jane Doe</p><a class="byline">John Roe</a>'),
    }
    assert set(cases) == {f.name for f in dataclasses.fields(MetadataRules)}
    for rule, (head, body) in cases.items():
        page = html_page(body, head)
        on = page_metadata(page, "https://www.example.com/story")
        off = page_metadata(page, "https://www.example.com/story", dataclasses.replace(METADATA_RULES, **{rule: False}))
        assert (on.title, on.authors) != (off.title, off.authors), rule


@pytest.mark.parametrize(
    "body, author",
    [
        ('<p>Text.</p><a rel="author" href="/jane">Jane Doe</a>', "Jane Doe"),
        ('<div class="article-author-name">Jane Doe</div><span class="byline">John Roe</span>', "Jane Doe"),
        ('<span data-testid="AuthorCard">Jane Doe</span>', "Jane Doe"),
        ("<author>Jane Doe</author>", "Jane Doe"),
        ('<h4 class="post-author">Jane Doe</h4>', "Jane Doe"),
        ('<p id="zuozhe-box">Jane Doe</p>', "Jane Doe"),
        ('<section class="byline-wrap">Jane Doe</section>', "Jane Doe"),
        ('<li itemprop="author">Jane Doe</li>', "Jane Doe"),
        ('<div data-component="Byline">Jane Doe</div>', "Jane Doe"),
        ('<span class="BBL">Jane Doe</span>', "Jane Doe"),
        ('<div class="user screenname">Jane Doe</div>', "Jane Doe"),
        ('<a class="authorName" href="/jane">Jane Doe</a>', "Jane Doe"),
        ('<p class="journalist-name">Jane Doe</p>', "Jane Doe"),
        ('<div><p class="story">Text.</p><span id="Author">Jane Doe</span></div>', "Jane Doe"),
        ('<p class="İstanbul">Text.</p><div id="x" class="a-writer-box">Jane Doe</div>', "Jane Doe"),
        ('<div><span><rel>me</rel></span><p class="author">Jane Doe</p></div>', "Jane Doe"),
        # what the author is never read from: comment sections, sidebars, quotes, dates, figures
        ('<div class="comments-list"><span class="author">A Commenter</span></div>', None),
        ('<div id="commentlist-1"><span class="author">A Commenter</span></div>', None),
        ('<aside><div class="sidebar"><a class="author">Sidebar Person</a></div></aside>', None),
        ('<figure><figcaption class="author">Photographer</figcaption></figure>', None),
        ('<div class="date"><span class="author">Jane Doe</span></div><p class="writer">John Roe</p>', "John Roe"),
        ('<div class="author"><time>Oct. 16</time>Jane Doe</div>', "Jane Doe"),
        ('<span class="author">JD</span><p class="writer">John Roe</p>', "John Roe"),
        ("<p>No byline at all.</p>", None),
    ],
)
def test_page_author_reads_as_trafilatura_extract_author(body, author):
    """page_author reads as trafilatura 2.3.1's extract_author with its regular expressions tested in
    Python rather than in XPath: the same answer on every case."""
    tree = html_page(body)
    assert page_author(tree) == trafilatura_metadata.extract_author(tree) == author
