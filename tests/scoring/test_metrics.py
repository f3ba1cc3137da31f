"""Holdout metrics on a tiny set checked by hand."""

from __future__ import annotations

import math

import pytest

from scoring import compare_scorers, holdout_metrics, precision_at_top
from scoring.metrics import brier_score, reliability_bins

Y = [1, 0, 1, 0, 0, 1, 0, 0, 0, 0]
P = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]


def test_metrics_match_the_hand_computed_values() -> None:
    m = holdout_metrics(Y, P)
    # 3 positives x 7 negatives; negatives ranked below each positive: 7 + 6 + 4
    assert m.roc_auc == pytest.approx(17 / 21)
    assert (m.precision_at_10, m.precision_at_20) == (1.0, 0.5)  # top 1 row, top 2 rows
    assert m.brier == pytest.approx(1.8525 / 10)
    assert (m.rows, m.positives, m.base_rate) == (10, 3, 0.3)


def test_reliability_bins_hold_one_row_each() -> None:
    bins = reliability_bins(Y, P)
    assert [b.count for b in bins] == [1] * 10
    assert [b.observed_rate for b in bins] == [0, 0, 0, 0, 1, 0, 0, 1, 0, 1]
    assert bins[9].mean_predicted == pytest.approx(0.9)


def test_empty_bins_are_nan_and_one_falls_in_the_last_bin() -> None:
    bins = reliability_bins([1, 0], [1.0, 0.95], bins=4)
    assert [b.count for b in bins] == [0, 0, 0, 2]
    assert math.isnan(bins[0].mean_predicted)


def test_precision_at_top_rounds_up_and_breaks_ties_by_row_order() -> None:
    assert precision_at_top([0, 1, 1], [0.5, 0.5, 0.5], 0.34) == 0.5  # ceil(1.02) = 2 rows
    assert precision_at_top([0, 1, 1], [0.5, 0.5, 0.5], 0.3) == 0.0
    with pytest.raises(ValueError, match="fraction"):
        precision_at_top(Y, P, 0)


def test_single_class_and_length_mismatch_are_errors() -> None:
    with pytest.raises(ValueError, match="both outcomes"):
        holdout_metrics([1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="2 outcomes for 3 scores"):
        brier_score([1, 0], [0.1, 0.2, 0.3])


def test_comparison_reports_both_scorers_on_the_same_rows() -> None:
    points = [10, 50, 20, 0, 0, 30, 0, 0, 0, 5]  # each positive beats 6 of 7 negatives
    found = compare_scorers(Y, P, points)
    assert found.metrics[1].brier is None
    assert found.metrics[1].reliability == ()
    assert found.metrics[1].roc_auc == pytest.approx(18 / 21)
    assert found.auc_difference == pytest.approx(17 / 21 - 18 / 21)
    assert found.lines()[1].split()[0] == "roc_auc"
