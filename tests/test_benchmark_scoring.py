"""The article-body benchmark's scorer, on hand-counted cases."""

import pytest

from benchmarks.scoring import PageScore, score_corpus, score_page, shingles, word_recall


def test_shingles_count_overlapping_runs_of_four_word_tokens():
    assert shingles("a b c d a b c d") == {
        ("a", "b", "c", "d"): 2,
        ("b", "c", "d", "a"): 1,
        ("c", "d", "a", "b"): 1,
        ("d", "a", "b", "c"): 1,
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


@pytest.mark.parametrize(
    "predicted, truth, share",
    [
        ("one two three four", "one two three four", 1.0),
        ("one two", "one two three four", 0.5),
        ("two two two", "one two two", 2 / 3),  # counted: a word kept once more than it occurs is not more kept
        (None, "one two", 0.0),
        ("anything", "", 1.0),
    ],
)
def test_word_recall_is_the_share_of_true_words_kept(predicted, truth, share):
    assert word_recall(predicted, truth) == pytest.approx(share)


def test_lost_whole_when_clippings_keeps_under_half_where_trafilatura_keeps_most():
    from benchmarks.extraction import is_lost_whole

    truth = "one two three four five six seven eight nine ten"
    assert is_lost_whole("one two three four", truth, truth)  # 40% against 100%
    assert not is_lost_whole("one two three four five", truth, truth)  # 50%
    assert not is_lost_whole(None, "one two three four five six seven", truth)  # trafilatura kept 70% only


@pytest.mark.parametrize(
    "flag, text, verdict",
    [
        ("truncated", "one two three", "right"),  # under half the true words kept
        ("truncated", "one two three four five six seven eight nine ten", "misfired"),  # the whole article
        ("truncated", "one two three four five six", None),  # part of it: neither
        ("thin", "one two three four five six seven eight nine ten", "right"),  # the true article is short
    ],
)
def test_flag_verdict_judges_a_flag_by_how_much_of_the_article_the_text_keeps(flag, text, verdict):
    from benchmarks.extraction import flag_verdict

    assert flag_verdict(flag, text, "one two three four five six seven eight nine ten") == verdict


def test_flag_verdict_thin_misfires_on_a_long_article_kept_whole():
    from benchmarks.extraction import THRESHOLDS, flag_verdict

    article = " ".join(f"word{n}" for n in range(THRESHOLDS.thin_words))
    assert flag_verdict("thin", article, article) == "misfired"
