"""Near-duplicate texts grouped into stories: the sketch, its precision on benchmark pairs, the archive's rule."""

import itertools
import json
from collections import defaultdict
from urllib.parse import urlsplit

import pytest

from clippings.cli import DEFAULT_TOPIC
from pipelines.core.extraction import extract_article
from pipelines.core.items import FetchedPage
from pipelines.core.relevance import TopicMatcher
from pipelines.core.stories import SKETCH_SIZE, hashes_shared_at_least, most_similar, next_lead, similarity, sketch, story_lead
from pipelines.core.topic import load_topic
from pipelines.store.archive import Archive

from .conftest import PROJECT_ROOT, THRESHOLDS

STORY_SIMILARITY = THRESHOLDS.story_similarity

BENCHMARK = PROJECT_ROOT.parent / "shared" / "bench" / "extraction" / "ground-truth.json"
PAGES = PROJECT_ROOT / "tests" / "pages"


def test_most_similar_is_the_closest_text_at_the_threshold_or_more():
    text = sketch("producers met to discuss the allegations and a code of conduct for film sets " * 3)
    near = sketch("Producers met to discuss the allegations, and a code of conduct for film sets! " * 3)
    far = sketch("the harbour council voted on the budget for the new ferry terminal on tuesday")
    assert most_similar(text, [(1, far), (2, near)], 0.5) == 2
    assert most_similar(text, [(1, far)], 0.5) is None
    assert most_similar(text, [], 0.5) is None


@pytest.mark.parametrize(
    "members, lead",
    [
        ([(3, "2017-10-12"), (5, "2017-10-10"), (4, "2017-10-10")], 4),  # earliest day, then lowest id
        ([(3, None), (7, "2017-10-12")], 7),  # an undated article never leads a dated one
        ([(3, None), (2, None)], 2),
        ([(9, None)], 9),
    ],
)
def test_story_lead_is_the_earliest_published(members, lead):
    assert story_lead(members) == lead


def test_next_lead_is_the_earliest_dated_other_or_none():
    assert next_lead([(3, None), (7, "2017-10-12"), (8, "2017-10-11")]) == 8
    assert next_lead([(3, None), (4, None)]) is None
    assert next_lead([]) is None


def test_most_similar_ties_go_to_the_later_candidate():
    text = sketch("producers met to discuss the allegations and a code of conduct for film sets")
    assert most_similar(text, [(1, text), (2, text)], 0.5) == 2


@pytest.mark.parametrize("share, size, shared", [(0.5, SKETCH_SIZE, 32), (0.0, SKETCH_SIZE, 1), (0.5, 3, 1), (1.0, 10, 10)])
def test_hashes_shared_at_least_is_the_thresholds_share_of_the_sketch(share, size, shared):
    assert hashes_shared_at_least(share, size) == shared


@pytest.mark.parametrize(
    "first, second, expected",
    [
        ("The council voted to fund the shelter on Tuesday night", "The council voted to fund the shelter on Tuesday night", 1.0),
        ("The council voted to fund the shelter", "THE COUNCIL, voted to fund — the shelter!", 1.0),
        ("The council voted to fund the shelter", "", 0.0),
        ("The council voted to fund the shelter", "A storm closed every school in the county", 0.0),
    ],
)
def test_similarity_of_sketches_ignores_case_and_punctuation(first, second, expected):
    assert similarity(sketch(first), sketch(second)) == expected


@pytest.fixture(scope="module")
def benchmark_bodies() -> dict[str, tuple[str, str]]:
    if not BENCHMARK.exists():
        pytest.skip(f"the extraction benchmark is not at {BENCHMARK} (CI has it; see benchmarks/extraction.py)")
    truth = json.loads(BENCHMARK.read_text(encoding="utf-8"))
    return {
        page: (record["url"], record["articleBody"])
        for page, record in sorted(truth.items())
        if len(record["articleBody"].split()) >= 100
    }


def variants(body: str, other: str) -> list[str]:
    """The same article as another page would carry it: other boilerplate around it, a
    paragraph added at the end (an update), the first paragraph dropped (a shorter wire cut)."""
    paragraphs = [p for p in body.split("\n") if p.strip()]
    chrome = " ".join(other.split()[:40])
    return [
        f"{chrome}\n{body}\n{chrome}",
        f"{body}\nUpdate: this story has been updated with a statement from the company, which declined to comment further.",
        "\n".join(paragraphs[1:]) if len(paragraphs) > 2 else body,
    ]


def test_sketch_same_article_in_other_versions_is_one_story(benchmark_bodies):
    bodies = [body for _, body in benchmark_bodies.values()]
    pairs = [(body, variant) for body, other in zip(bodies, bodies[1:] + bodies[:1]) for variant in variants(body, other)]
    missed = [variant[:80] for body, variant in pairs if similarity(sketch(body), sketch(variant)) < STORY_SIMILARITY]
    assert len(missed) <= 0.02 * len(pairs), missed


def test_sketch_different_articles_are_different_stories(benchmark_bodies):
    by_host = defaultdict(list)
    for url, body in benchmark_bodies.values():
        by_host[urlsplit(url).hostname.removeprefix("www.")].append(body)
    same_outlet = [pair for bodies in by_host.values() for pair in itertools.combinations(bodies, 2)]
    assert same_outlet, "the benchmark should hold several articles of one outlet"
    sketches = [sketch(body) for _, body in benchmark_bodies.values()]
    any_two = list(itertools.combinations(sketches, 2))
    merged = [a[:80] for a, b in same_outlet if similarity(sketch(a), sketch(b)) >= STORY_SIMILARITY]
    assert merged == []
    assert all(similarity(a, b) < STORY_SIMILARITY for a, b in any_two)


@pytest.fixture
def archive_with_topic(tmp_path):
    topic = load_topic(DEFAULT_TOPIC)
    archive = Archive(tmp_path / "a.db")
    archive.sync_topic(topic)
    archive.start_run("run", "seeds", topic, "clippings/test", True)
    return archive, topic


def store(archive, topic, url: str, html: bytes) -> int:
    page = FetchedPage(url, url, 200, {}, html, "2017-12-01T00:00:00+00:00", "seeds", "run")
    page.capture_id, _ = archive.add_capture(page, url)
    page.article = extract_article(page.body, url)
    page.topic_match = TopicMatcher(topic).decide(page.article.title, page.article.text)
    page.canonical_url = url
    return archive.add_article(page, topic, STORY_SIMILARITY)


def test_archive_story_is_led_by_its_earliest_published_version(archive_with_topic):
    archive, topic = archive_with_topic
    html = (PAGES / "jsonld_article.html").read_bytes()
    first = store(archive, topic, "https://a.example/2017/10/11/accusers", html.replace(b"2017-10-10T22:15", b"2017-10-11T08:00"))
    updated = html.replace(b"2017-10-10T22:15", b"2017-10-09T08:00").replace(
        b"</article>",
        b"<p>Update: the company said on Wednesday that it had opened an investigation into the claims.</p></article>",
    )
    second = store(archive, topic, "https://b.example/2017/10/09/accusers-updated", updated)
    stories = {row[0]: row[1] for row in archive.conn.execute("SELECT id, story_id FROM articles")}
    assert stories == {first: second, second: second}


def test_archive_different_articles_start_their_own_stories(archive_with_topic):
    archive, topic = archive_with_topic
    first = store(archive, topic, "https://a.example/2017/10/10/accusers", (PAGES / "jsonld_article.html").read_bytes())
    sentence = "Producers met on Monday to agree a code of conduct for film sets after the Harvey Weinstein allegations. "
    other_html = (
        "<html><head><title>Harvey Weinstein: studios agree a code of conduct</title>"
        '<meta property="article:published_time" content="2017-10-12"></head>'
        f"<body><article><h1>Harvey Weinstein: studios agree a code of conduct</h1><p>{sentence * 8}</p></article></body></html>"
    )
    other = store(archive, topic, "https://b.example/2017/10/12/code-of-conduct", other_html.encode())
    stories = {row[0]: row[1] for row in archive.conn.execute("SELECT id, story_id FROM articles")}
    assert stories == {first: first, other: other}
