"""benchmarks/answers.py: every benchmark answer recorded, and two records compared."""

import gzip
import json

import pytest

from benchmarks import answers

ARTICLE = (
    "<html><head><title>The producer's accusers speak</title></head><body><article>"
    "<h1>The producer's accusers speak</h1>"
    + "".join(f"<p>Paragraph {n} of the report tells what the accusers said, in full sentences.</p>" for n in range(12))
    + "</article></body></html>"
)


def corpus_root(tmp_path, html=ARTICLE):
    folder = tmp_path / "extraction"
    (folder / "html").mkdir(parents=True)
    (folder / "html" / "one.html.gz").write_bytes(gzip.compress(html.encode()))
    (folder / "ground-truth.json").write_text(json.dumps({"one": {"url": "https://example.org/a", "articleBody": "x"}}))
    return tmp_path


def test_record_writes_each_page_answer_and_compare_finds_none_changed(tmp_path, capsys):
    root = corpus_root(tmp_path / "bench")
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    answers.main(["record", str(before), str(root)])
    answers.main(["record", str(after), str(root)])
    recorded = json.loads(before.read_text())
    assert list(recorded) == ["article extraction/one"]
    assert recorded["article extraction/one"]["title"] == "The producer's accusers speak"
    with pytest.raises(SystemExit) as exit:
        answers.main(["compare", str(before), str(after)])
    assert exit.value.code == 0
    assert "0 of 1 answers differ" in capsys.readouterr().out


def test_compare_lists_a_changed_answer_and_exits_1(tmp_path, capsys):
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    before.write_text(json.dumps({"article a/1": {"text": "old"}, "date b/2": "refused: empty page"}))
    after.write_text(json.dumps({"article a/1": {"text": "new"}, "date b/2": "refused: empty page", "date c/3": {}}))
    with pytest.raises(SystemExit) as exit:
        answers.main(["compare", str(before), str(after)])
    assert exit.value.code == 1
    out = capsys.readouterr().out
    assert "article a/1" in out and "date c/3" in out and "date b/2" not in out
    assert "2 of 3 answers differ" in out
