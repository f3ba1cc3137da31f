"""Similar customers: a positive-unlabelled classifier of a source group against a population.

The source is the labelled positives; the population is unlabelled (it holds look-alikes we do
not know of). A gradient-boosted classifier estimates g(x) = P(labelled | x); under the
"selected completely at random" assumption (Elkan & Noto, 2008) P(similar | x) = g(x) / c with
c = P(labelled | similar), estimated as the mean of g over the labelled rows.

Every row is scored by models that did not train on it (cross-fitting over `folds`): a
population row trained as "unlabelled" would otherwise be pushed toward 0 by its own label,
and a look-alike is exactly the row that must not be.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from scoring.errors import ScoringError, ScoringErrorCode

Floats = npt.NDArray[np.float64]
Stage = Literal["training", "scoring"]
# (stage, steps done, steps in the stage): called from the thread that scores, after each step
Progress = Callable[[Stage, int, int], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class SimilarityConfig:
    random_state: int = 0
    folds: int = 3
    iterations: int = 100
    # a sample of the population trains (all of it is scored): 100k rather than 200k took the
    # training of 50k x 126 features from 42 to 24 CPU seconds, with the same separation
    max_unlabelled: int = 100_000
    # OpenMP threads of the trees (None: one per core). One by default: on cores shared with
    # Neo4j and other work, libgomp's waiting threads spin and the same fit took 3-7x longer
    # with two threads than with one (docs/scoring.md, "Expansion speed").
    threads: int | None = 1


@dataclass(frozen=True, slots=True)
class SimilarityScores:
    source: Floats  # cross-fitted scores of the source rows, 0..1
    population: Floats  # scores of the population rows, 0..1
    label_frequency: float  # c: the estimated share of similar profiles that are in the source


def score_similarity(
    source: Floats, population: Floats, config: SimilarityConfig | None = None,
    progress: Progress | None = None,
) -> SimilarityScores:  # fmt: skip
    """Score the source and population rows (NaN is a missing value) 0..1 for similarity to
    the source. Deterministic for a config. `progress` hears of each fold model trained, then
    of each share of the population scored.

    Raises ScoringError(INVALID_TRAINING_DATA) with fewer source rows than folds, an empty
    population, or matrices of different widths.
    """
    cfg = config or SimilarityConfig()
    _check(source, population, cfg)
    # the limit holds for this thread only (OpenMP's setting is per thread): a caller running
    # this in a worker thread limits that thread, nothing else of the process
    with threadpool_limits(limits=cfg.threads, user_api="openmp"):
        return _score(source, population, cfg, progress or _silent)


def _score(
    source: Floats, population: Floats, cfg: SimilarityConfig, report: Progress
) -> SimilarityScores:
    # a column with no value at all carries nothing (and breaks the binning of the trees)
    known = ~(np.all(np.isnan(source), axis=0) & np.all(np.isnan(population), axis=0))
    if not known.any():
        raise ScoringError.one(ScoringErrorCode.INVALID_TRAINING_DATA, "no feature has values")
    source, population = source[:, known], population[:, known]
    rng = np.random.default_rng(cfg.random_state)
    trained = np.sort(rng.permutation(len(population))[: cfg.max_unlabelled])
    x = np.vstack([source, population[trained]])
    s = np.concatenate([np.ones(len(source)), np.zeros(len(trained))])
    folds = StratifiedKFold(cfg.folds, shuffle=True, random_state=cfg.random_state)
    oof = np.zeros(len(s))
    outside = np.ones(len(population), dtype=bool)
    outside[trained] = False
    rest = np.flatnonzero(outside)
    scores = np.empty(len(population))
    # every fold model is trained before any scoring, so that progress goes in two stages
    models = []
    report("training", 0, cfg.folds)
    for fold, (fit_rows, test_rows) in enumerate(folds.split(x, s)):
        model = _classifier(cfg).fit(x[fit_rows], s[fit_rows])
        oof[test_rows] = model.predict_proba(x[test_rows])[:, 1]
        models.append(model)
        report("training", fold + 1, cfg.folds)
    report("scoring", 0, cfg.folds)
    for fold, model in enumerate(models):
        # rows that never trained are shared out between the fold models (one predict of
        # each row rather than one per fold: on 1M rows that is most of the scoring time)
        mine = rest[fold :: cfg.folds]
        if mine.size:
            scores[mine] = model.predict_proba(population[mine])[:, 1]
        report("scoring", fold + 1, cfg.folds)
    c = float(np.mean(oof[: len(source)]))
    scores[trained] = oof[len(source) :]
    return SimilarityScores(_clip(oof[: len(source)] / c), _clip(scores / c), c)


def _silent(stage: Stage, done: int, total: int) -> None:
    return None


def _classifier(cfg: SimilarityConfig) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=cfg.iterations, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=20,
        l2_regularization=1.0, early_stopping=False, random_state=cfg.random_state,
    )  # fmt: skip


def _clip(values: Floats) -> Floats:
    return np.asarray(np.clip(values, 0.0, 1.0), dtype=np.float64)


def _check(source: Floats, population: Floats, cfg: SimilarityConfig) -> None:
    code = ScoringErrorCode.INVALID_TRAINING_DATA
    if source.ndim != 2 or population.ndim != 2 or source.shape[1] != population.shape[1]:
        raise ScoringError.one(code, "source and population need the same feature columns")
    if len(source) < cfg.folds:
        raise ScoringError.one(code, f"the source needs at least {cfg.folds} profiles")
    if len(population) == 0:
        raise ScoringError.one(code, "the population is empty")
