"""Topic files: the default loads; malformed and hostile ones get a sentence naming each problem."""

import datetime as dt
import resource
import subprocess
import sys

import pytest
import yaml

from clippings.cli import DEFAULT_TOPIC
from pipelines.core.topic import MAX_NESTING, TopicError, load_topic

from .conftest import PROJECT_ROOT


def write(tmp_path, data) -> str:
    path = tmp_path / "topic.yml"
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
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
        (
            minimal(outlets=[{"name": "G", "domains": ["g.example"], "feeds": ["ftp://g.example/f"]}]),
            r"outlets\[0\].feeds\[0\] must be an http",
        ),
        (minimal(outlets=[{"name": "G"}]), r"outlets\[0\].domains must be a non-empty list"),
        (minimal(people=[{"name": "X", "role": "accused"}, {"name": "X", "role": "accused"}]), "id 'x' is used twice"),
        (minimal(relevance={"min_score": -1}), "relevance.min_score must be a whole number"),
        # wrong types
        (minimal(keywords="#MeToo"), "keywords must be a non-empty list, not the text '#MeToo'"),
        (minimal(people={"name": "X", "role": "accused"}), "people must be a non-empty list, not a mapping"),
        (minimal(name=["t"]), "name must be a non-empty string, not a list"),
        (minimal(description=3), "description must be a non-empty string, not the number 3"),
        (minimal(window="2017-10"), "window must be a mapping of keys to values, not the text '2017-10'"),
        (
            minimal(outlets=[{"name": "G", "domains": ["g.example"], "country": ["US"]}]),
            r"outlets\[0\].country must be a non-empty string, not a list",
        ),
        (
            minimal(outlets=[{"name": "G", "domains": ["g.example"], "feeds": "https://g.example/rss"}]),
            r"outlets\[0\].feeds must be a list, not the text",
        ),
        (
            minimal(outlets=[{"name": "G", "domains": ["https://g.example/"]}]),
            r"outlets\[0\].domains\[0\] must be a host name like nytimes.com",
        ),
        (
            minimal(outlets=[{"name": "G", "domains": ["g.example"], "homepage": ["https://g.example/"]}]),
            r"outlets\[0\].homepage must be a non-empty string, not a list",
        ),
        (minimal(people=[{"name": "X", "role": "accused", "id": ["x"]}]), r"people\[0\].id must be a string, not a list"),
        (minimal(people=[{"name": "米兔", "role": "movement"}]), r"people\[0\]: '米兔' gives an empty id .* add an id"),
        (minimal(relevance={"min_score": True}), "relevance.min_score must be a whole number >= 0, not true"),
        (minimal(relevance=[1]), "relevance must be a mapping of keys to values, not a list"),
        # unknown keys, with the likely one
        (minimal(keyword=["x"]), "the file has an unknown key 'keyword' \\(did you mean 'keywords'\\?\\)"),
        (minimal(window={"start": "2017-10-01", "end": "2017-10-31", "ends": "x"}), "window has an unknown key 'ends'"),
        (
            minimal(people=[{"name": "X", "role": "accused", "alias": ["Y"]}]),
            r"people\[0\] has an unknown key 'alias' \(did you mean 'aliases'\?\)",
        ),
        (
            minimal(outlets=[{"name": "G", "domains": ["g.example"], "feed": ["https://g.example/rss"]}]),
            r"outlets\[0\] has an unknown key 'feed'",
        ),
        (minimal(relevance={"min_scores": 2}), "relevance has an unknown key 'min_scores'"),
        # bad dates
        (
            "name: t\nwindow: {start: 2017-02-30, end: 2017-10-31}\n",
            "window.start must be a date like 2017-10-01, not the text '2017-02-30'",
        ),
        (
            minimal(window={"start": "autumn", "end": "2017-10-31"}),
            "window.start must be a date like 2017-10-01, not the text 'autumn'",
        ),
        (
            minimal(window={"start": 20171001, "end": "2017-10-31"}),
            "window.start must be a date like 2017-10-01, not the number 20171001",
        ),
        # empty lists and values
        (minimal(people=[]), "people must be a non-empty list"),
        (minimal(outlets=[{"name": "G", "domains": []}]), r"outlets\[0\].domains must be a non-empty list"),
        (minimal(keywords=["  "]), r"keywords\[0\] must be a non-empty string"),
        ("", "the file must be a mapping of keys to values \\(it is missing or empty\\)"),
        # what YAML itself cannot give
        (b"name: \xff\xfe\n", "is not UTF-8 text"),
        ("name: t\nn: 1" + "0" * 5000 + "\n", "holds a value that cannot be read"),
        (
            minimal(outlets=[{"name": "G", "domains": ["g.example"], "timezone": "GMT+1"}]),
            r"outlets\[0\].timezone for 'G' must be an IANA time zone name such as Europe/Paris",
        ),
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
    topic = load_topic(
        write(
            tmp_path,
            minimal(
                outlets=[
                    {"id": "a", "name": "A", "domains": ["127.0.0.1:8001"]},
                    {"id": "b", "name": "B", "domains": ["127.0.0.1:8002"]},
                ]
            ),
        )
    )
    assert topic.outlet_for("http://127.0.0.1:8002/x").id == "b"
    assert topic.outlet_for("http://127.0.0.1:9999/x") is None
    assert topic.allowed_domains == ["127.0.0.1:8001", "127.0.0.1:8002"]  # the crawl's scope keeps the ports


def test_load_topic_names_every_problem(tmp_path):
    data = minimal(
        keyword=["x"],
        window={"start": "2017-02-30", "end": "2017-10-31"},
        outlets=[{"name": "G", "domains": ["g.example"], "feeds": ["ftp://g.example/f"]}],
    )
    with pytest.raises(TopicError) as caught:
        load_topic(write(tmp_path, data))
    problems = caught.value.problems
    assert len(problems) == 3, problems
    assert "unknown key 'keyword'" in problems[0] and "window.start" in problems[1] and "feeds[0]" in problems[2]
    assert str(caught.value).startswith(problems[0]) and "and 2 more" in str(caught.value)


# Hostile files run in a child process bounded in memory and time: a loader that expanded them
# would fail the test instead of taking the machine (which other test runs share).
def run_bounded(code: str) -> subprocess.CompletedProcess:
    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    return subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, preexec_fn=limit_memory, capture_output=True, text=True, timeout=120
    )


def load_bounded(path) -> str:
    result = run_bounded(
        "import sys\nfrom pipelines.core.topic import TopicError, load_topic\n"
        f"try:\n    load_topic({str(path)!r})\nexcept TopicError as error:\n    print(error)\n"
    )
    assert result.returncode == 0 and not result.stderr, result.stderr[-2000:]
    return result.stdout


def test_load_topic_reads_a_device_only_up_to_the_size_bound():
    assert "/dev/zero is larger than 16 MB" in load_bounded("/dev/zero")


def billion_laughs(where: str) -> str:
    """Nine levels of nine aliases: 9**9 (387 million) strings once expanded."""
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"lol{n}: &lol{n} [{', '.join([f'*lol{n - 1}'] * 9)}]" for n in range(1, 9)]
    body = {
        "start": "window: {start: *lol8, end: 2017-10-31}",
        "description": "description: *lol8\nwindow: {start: 2017-10-01, end: 2017-10-31}",
    }[where]
    return "\n".join(lines) + f"\nname: t\nkeywords: [x]\npeople: [{{name: A, role: accused}}]\n{body}\n"


@pytest.mark.parametrize("where", ["start", "description"])
def test_load_topic_refuses_a_billion_laughs(tmp_path, where):
    message = load_bounded(write(tmp_path, billion_laughs(where)))
    assert "uses a YAML alias (*lol0) at line 2; topic files may not use aliases" in message


@pytest.mark.parametrize(
    "nested",
    [
        "name: " + "[" * 100_000 + "]" * 100_000,
        "name:\n" + "".join("  " * depth + "-\n" for depth in range(1, 2000)),
        "name: " + "{a: " * 50_000 + "1" + "}" * 50_000,
    ],
)
def test_load_topic_refuses_deep_nesting(tmp_path, nested):
    message = load_bounded(write(tmp_path, nested + "\n"))
    assert f"nests values more than {MAX_NESTING} levels deep" in message


def test_article_patterns_match_in_linear_time():
    """(a+)+$ on 5,000 a's and a "!" backtracks for ages in Python's re; RE2 answers at once."""
    result = run_bounded(
        "from pipelines.core.topic import parse_topic\nfrom crawlers.articleurls import ArticleUrls\n"
        "topic = parse_topic({'name': 't', 'window': {'start': '2017-10-01', 'end': '2017-10-31'}, 'keywords': ['x'],"
        " 'people': [{'name': 'A', 'role': 'accused'}],"
        " 'outlets': [{'name': 'G', 'domains': ['g.example'], 'article_patterns': ['(a+)+$']}]})\n"
        "print(ArticleUrls(topic).refusal('http://g.example/' + 'a' * 5000 + '!'))\n"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "matches none of the outlet's article_patterns" in result.stdout


def test_article_patterns_refuse_what_re2_cannot_run(tmp_path):
    data = minimal(outlets=[{"name": "G", "domains": ["g.example"], "article_patterns": [r"/(?!tag/)[a-z-]+$"]}])
    with pytest.raises(TopicError, match=r"outlets\[0\].article_patterns\[0\] is not a regular expression RE2 accepts"):
        load_topic(write(tmp_path, data))


def test_outlet_timezone_gives_its_pages_their_clock(tmp_path):
    outlets = [
        {"name": "Gazette", "domains": ["gazette.example"], "timezone": "America/Toronto"},
        {"name": "Other", "domains": ["other.example"]},
    ]
    topic = load_topic(write(tmp_path, minimal(outlets=outlets)))
    assert str(topic.time_zone_for("https://www.gazette.example/2017/10/16/s")) == "America/Toronto"
    assert topic.time_zone_for("https://other.example/s") is None
    assert topic.time_zone_for("https://elsewhere.example/s") is None
