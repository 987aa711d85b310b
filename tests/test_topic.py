"""Topic files: the default loads; malformed ones get a message naming the problem."""

import datetime as dt

import pytest
import yaml

from clippings.cli import DEFAULT_TOPIC
from clippings.topic import TopicError, load_topic


def write(tmp_path, data) -> str:
    path = tmp_path / "topic.yml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def minimal(**changes):
    topic = {
        "name": "t",
        "window": {"start": "2017-10-01", "end": "2018-01-31"},
        "keywords": ["#MeToo"],
        "people": [{"name": "Alyssa Milano", "role": "movement"}],
        "outlets": [{"name": "Gazette", "domains": ["gazette.example"]}],
    }
    topic.update(changes)
    return topic


def test_load_topic_reads_default():
    topic = load_topic(DEFAULT_TOPIC)
    assert topic.start == dt.date(2017, 10, 1) and topic.end == dt.date(2018, 1, 31)
    assert "#MeToo" in topic.keywords
    assert {p.role for p in topic.people} == {"accuser", "accused", "movement", "reporter", "context"}
    assert topic.outlet_for("https://www.nytimes.com/2017/10/05/us/x.html").id == "nytimes"
    assert len(topic.sha256) == 64


@pytest.mark.parametrize(
    "data, message",
    [
        ("name: [unclosed", "not valid YAML at line"),
        ("- just\n- a list\n", "the file must be a mapping"),
        (minimal(window={"start": "2017-10-01"}), "window.end must be a date"),
        (minimal(window={"start": "2018-01-01", "end": "2017-01-01"}), "is before window.start"),
        (minimal(keywords=[]), "keywords must be a non-empty list"),
        (minimal(people=[{"name": "X", "role": "villain"}]), r"people\[0\].role for 'X' must be one of"),
        (minimal(outlets=[{"name": "G", "domains": ["g.example"], "feeds": ["ftp://g.example/f"]}]), r"outlets\[0\].feeds\[0\] must be an http"),
        (minimal(outlets=[{"name": "G"}]), r"outlets\[0\].domains must be a non-empty list"),
        (minimal(people=[{"name": "X", "role": "accused"}, {"name": "X", "role": "accused"}]), "id 'x' is used twice"),
        (minimal(relevance={"min_score": -1}), "relevance.min_score must be a whole number"),
        (minimal(outlets=[{"name": "G", "domains": ["g.example"], "timezone": "GMT+1"}]),
         r"outlets\[0\].timezone for 'G' must be an IANA time zone name such as Europe/Paris"),
        (minimal(outlets=[{"name": "G", "domains": ["g.example"], "timezone": "Europe"}]), r"outlets\[0\].timezone"),
        (minimal(outlets=[{"name": "G", "domains": ["g.example"], "timezone": "../../etc/passwd"}]), r"outlets\[0\].timezone"),
        (minimal(outlets=[{"name": "G", "domains": ["g.example"], "timezone": 2}]), r"outlets\[0\].timezone .* not 2"),
    ],
)
def test_load_topic_names_the_problem(tmp_path, data, message):
    with pytest.raises(TopicError, match=message):
        load_topic(write(tmp_path, data))


def test_load_topic_missing_file(tmp_path):
    with pytest.raises(TopicError, match="cannot read topic file"):
        load_topic(tmp_path / "nope.yml")


def test_outlet_for_prefers_domain_with_port(tmp_path):
    topic = load_topic(write(tmp_path, minimal(outlets=[
        {"id": "a", "name": "A", "domains": ["127.0.0.1:8001"]},
        {"id": "b", "name": "B", "domains": ["127.0.0.1:8002"]},
    ])))
    assert topic.outlet_for("http://127.0.0.1:8002/x").id == "b"
    assert topic.outlet_for("http://127.0.0.1:9999/x") is None
    assert topic.allowed_domains == ["127.0.0.1"]


def test_outlet_timezone_gives_its_pages_their_clock(tmp_path):
    outlets = [{"name": "Gazette", "domains": ["gazette.example"], "timezone": "America/Toronto"},
               {"name": "Other", "domains": ["other.example"]}]
    topic = load_topic(write(tmp_path, minimal(outlets=outlets)))
    assert str(topic.time_zone_for("https://www.gazette.example/2017/10/16/s")) == "America/Toronto"
    assert topic.time_zone_for("https://other.example/s") is None
    assert topic.time_zone_for("https://elsewhere.example/s") is None
