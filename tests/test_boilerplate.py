"""Repeated boilerplate: lines an outlet repeats across its archived articles are dropped from later ones."""

import pytest

from clippings.cli import DEFAULT_TOPIC
from pipelines.core.extraction import drop_known_lines, extract_article, line_fingerprint, line_fingerprints, repeated_lines
from pipelines.core.items import FetchedPage
from pipelines.core.relevance import TopicMatcher
from pipelines.core.topic import load_topic
from pipelines.store.archive import Archive

from .conftest import THRESHOLDS

PROMPT = "Get the latest updates right in your inbox. Sign up for our newsletters."
BACKGROUND = (
    "The allegations against Harvey Weinstein were first reported by The New York Times on October 5, "
    "and the New Yorker published the accounts of thirteen more women five days later, after which the "
    "board of his company dismissed him."
)


def article_html(number: int) -> bytes:
    body = f"Story {number}: producers met to discuss the Harvey Weinstein allegations and a code of conduct for sets. " * 6
    return (
        f"<html><head><title>Harvey Weinstein story {number}</title>"
        f'<meta property="article:published_time" content="2017-10-1{number}"></head>'
        f"<body><article><h1>Harvey Weinstein story {number}</h1><p>{body}</p><p>{PROMPT}</p><p>{BACKGROUND}</p>"
        f"<p>The studio said it would publish the code next week, story {number} adds.</p></article></body></html>"
    ).encode()


@pytest.mark.parametrize(
    "line, dropped",
    [
        (PROMPT, True),
        ("  GET the latest updates right in your inbox.   Sign up for our NEWSLETTERS.", True),
        ("Another line.", False),
    ],
)
def test_drop_known_lines_matches_case_and_spacing_folded(line, dropped):
    text = f"First line.\n{line}\nLast line."
    assert (drop_known_lines(text, frozenset({line_fingerprint(PROMPT)})) == "First line.\nLast line.") is dropped


def test_archive_boilerplate_is_lines_repeated_in_enough_articles(tmp_path):
    topic = load_topic(DEFAULT_TOPIC)
    outlet = topic.outlets[0].id
    archive = Archive(tmp_path / "a.db")
    archive.sync_topic(topic)
    archive.start_run("run", "seeds", topic, "clippings/test", True)
    seen = []
    for number in range(1, 5):
        url = f"https://example.com/2017/10/1{number}/story-{number}"
        page = FetchedPage(url, url, 200, {}, article_html(number), "2017-12-01T00:00:00+00:00", "seeds", "run")
        page.capture_id, _ = archive.add_capture(page, url)
        page.outlet_id = outlet
        page.article = extract_article(page.body, url, boilerplate=archive.boilerplate(outlet, 3))
        page.topic_match = TopicMatcher(topic).decide(page.article.title, page.article.text)
        page.canonical_url = url
        archive.add_article(page, topic, THRESHOLDS.story_similarity)
        seen.append(PROMPT in page.article.text)
    assert seen == [True, True, True, False]  # the fourth article of the outlet is without it
    # The long background paragraph the outlet repeats is content: never boilerplate.
    assert BACKGROUND in page.article.text
    assert archive.boilerplate(outlet, 3) == {line_fingerprint(PROMPT)}
    assert archive.boilerplate("another-outlet", 3) == frozenset()


def test_line_fingerprints_are_the_short_lines_folded():
    long_line = "word " * 40
    fingerprints = line_fingerprints(f"{PROMPT}\n{PROMPT.upper()}\n\n{long_line}")
    assert fingerprints == {line_fingerprint(PROMPT)}


def test_repeated_lines_are_those_at_the_threshold_but_for_the_texts_own():
    prompt, other = line_fingerprint(PROMPT), line_fingerprint("Follow us")
    counts = [(prompt, 3), (other, 2)]
    assert repeated_lines(counts, 3) == {prompt}
    assert repeated_lines(counts, 2) == {prompt, other}
    assert repeated_lines(counts, 3, own_text=PROMPT) == frozenset()
    assert repeated_lines(counts, 2, own_text=f"Story\n{PROMPT}") == {prompt, other}
