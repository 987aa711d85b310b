"""`clippings topic init` and `clippings topic check`: a commented template that checks, and one sentence per problem."""

import sqlite3

from click.testing import CliRunner

from clippings.cli import main
from pipelines.core.topic import load_topic


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_topic_init_writes_a_template_that_checks(tmp_path):
    path = tmp_path / "story.yml"
    result = invoke("topic", "init", str(path))
    assert result.exit_code == 0, result.output
    checked = invoke("topic", "check", str(path))
    assert checked.exit_code == 0 and checked.output.strip().endswith(": OK"), checked.output
    topic = load_topic(path)
    outlet = topic.outlets[0]
    assert topic.keywords and topic.start < topic.end
    assert {p.role for p in topic.people} <= {"accuser", "accused", "movement", "reporter", "context"}
    assert outlet.feeds and outlet.sitemaps and outlet.seeds and outlet.article_patterns
    assert str(outlet.time_zone) == "Europe/London"


def test_topic_init_template_explains_each_section(tmp_path):
    path = tmp_path / "story.yml"
    invoke("topic", "init", str(path))
    text = path.read_text(encoding="utf-8")
    for section in ("window:", "keywords:", "people:", "relevance:", "outlets:", "feeds:", "sitemaps:", "timezone:"):
        assert section in text
    assert text.count("\n#") >= 10  # commented, not a bare example


def test_topic_init_refuses_to_overwrite_without_force(tmp_path):
    path = tmp_path / "story.yml"
    path.write_text("mine", encoding="utf-8")
    result = invoke("topic", "init", str(path))
    assert result.exit_code == 1
    assert result.output == f"Error: {path} already exists; choose another name, or add --force to overwrite it\n"
    assert path.read_text(encoding="utf-8") == "mine"
    forced = invoke("topic", "init", "--force", str(path))
    assert forced.exit_code == 0 and "window:" in path.read_text(encoding="utf-8")


def test_topic_init_into_a_missing_folder_is_one_sentence(tmp_path):
    result = invoke("topic", "init", str(tmp_path / "nowhere" / "story.yml"))
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot write ") and result.output.count("\n") == 1
    assert "Traceback" not in result.output


def test_topic_check_names_each_problem_in_one_sentence(tmp_path):
    path = tmp_path / "story.yml"
    invoke("topic", "init", str(path))
    text = path.read_text(encoding="utf-8")
    text = text.replace("start: 2024-01-01", "start: 2024-02-30").replace("role: reporter", "role: journalist")
    text = text.replace("domains: [example.org]", "domains: [https://example.org/]").replace("\nkeywords:", "\nkeyword:")
    path.write_text(text, encoding="utf-8")
    result = invoke("topic", "check", str(path))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 5, result.output
    assert all(line.startswith(f"Error: {path}: ") and line.count(". ") == 0 for line in lines)
    assert "unknown key 'keyword' (did you mean 'keywords'?)" in lines[0]
    assert "window.start must be a date like 2017-10-01, not the text '2024-02-30'" in lines[1]
    assert "keywords must be a non-empty list (it is missing or empty)" in lines[2]
    assert "people[1].role for 'Another Person' must be one of" in lines[3]
    assert "outlets[0].domains[0] must be a host name" in lines[4]


def test_topic_check_of_a_missing_file(tmp_path):
    result = invoke("topic", "check", str(tmp_path / "nope.yml"))
    assert result.exit_code == 1
    assert result.output == f"Error: cannot read topic file {tmp_path / 'nope.yml'}: No such file or directory\n"


def test_a_hostile_topic_stored_in_an_archive_is_one_sentence(tmp_path):
    """`coverage` and `reextract` read the topic an archive holds: a file someone sent is input too."""
    from pipelines.store.archive import Archive

    db = tmp_path / "archive.db"
    Archive(db, create=True).close()
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "INSERT INTO topics VALUES ('x', 't', 't', '2017-10-01', '2017-10-31', ?, '2017-10-01')",
            ("name: " + "[" * 100_000 + "]" * 100_000 + "\n",),
        )
    conn.close()
    result = invoke("coverage", "--db", str(db))
    assert result.exit_code == 1
    assert result.output.startswith("Error: the archive's topic nests values more than 20 levels deep")
    assert result.output.endswith("; give one with --topic\n") and result.output.count("\n") == 1
