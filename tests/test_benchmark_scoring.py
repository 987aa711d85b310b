"""The article-body benchmark's scorer, on hand-counted cases."""

import pytest

from benchmarks.scoring import PageScore, score_corpus, score_page, shingles


def test_shingles_count_overlapping_runs_of_four_word_tokens():
    assert shingles("a b c d a b c d") == {
        ("a", "b", "c", "d"): 2, ("b", "c", "d", "a"): 1, ("c", "d", "a", "b"): 1, ("d", "a", "b", "c"): 1
    }


@pytest.mark.parametrize(
    "predicted, truth, precision, recall",
    [
        ("one two three four five", "one two three four five", 1.0, 1.0),
        # one extra shingle of three: precision 2/3, nothing missing
        ("one two three four five six", "one two three four five", 2 / 3, 1.0),
        # half the true shingles missing
        ("one two three four", "one two three four five", 1.0, 0.5),
        ("", "one two three four five", 0.0, 0.0),
        ("punctuation, one-two three four!", "punctuation one two three four", 1.0, 1.0),
    ],
)
def test_score_page_precision_and_recall(predicted, truth, precision, recall):
    page = score_page(predicted, truth)
    assert (page.precision, page.recall) == pytest.approx((precision, recall))


def test_score_corpus_empty_prediction_costs_recall_not_precision():
    pages = [PageScore(1.0, 1.0, True), score_page(None, "one two three four five")]
    corpus = score_corpus(pages)
    assert (corpus.precision, corpus.recall) == (1.0, 0.5)
    assert corpus.f1 == pytest.approx(2 / 3)
