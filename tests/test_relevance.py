"""Relating articles to the topic: matches, counts, decisions with reasons."""

import pytest

from clippings.cli import DEFAULT_TOPIC
from pipelines.core.relevance import OffTopic, TopicMatcher
from pipelines.core.topic import load_topic


@pytest.fixture(scope="module")
def matcher():
    return TopicMatcher(load_topic(DEFAULT_TOPIC))


def test_match_counts_title_and_body_separately(matcher):
    found = matcher.match("Alyssa Milano and #MeToo", "Milano asked women to write me too. #MeToo spread.")
    keywords = {m.term: (m.in_title, m.in_body) for m in found.keywords}
    people = {m.term: (m.in_title, m.in_body) for m in found.people}
    assert keywords["#MeToo"] == (1, 1)
    assert keywords["me too"] == (0, 1)
    assert people["alyssa-milano"] == (1, 1)


def test_match_prefers_longest_name(matcher):
    found = matcher.match(None, "Bob Weinstein spoke for The Weinstein Company.")
    people = {m.term for m in found.people}
    assert people == {"bob-weinstein", "the-weinstein-company"}


def test_match_folds_accents_and_apostrophes(matcher):
    found = matcher.match(None, "Judith Godreche and Lupita Nyong’o spoke.")
    assert {m.term for m in found.people} == {"judith-godreche", "lupita-nyong-o"}


def test_decide_rejects_off_topic_with_reason(matcher):
    with pytest.raises(OffTopic, match="score 0"):
        matcher.decide("Ferry timetable changes", "The council approved a new winter timetable for the ferry.")


def test_decide_context_people_alone_are_not_enough(matcher):
    with pytest.raises(OffTopic):
        matcher.decide("A retrospective", "Films by Woody Allen and Roman Polanski were shown.")


def test_decide_keeps_article_with_reason(matcher):
    found = matcher.decide("Weinstein fired by board", "The board of the Weinstein Company fired Harvey Weinstein.")
    assert found.score >= 2 and "Harvey Weinstein" in found.reason
