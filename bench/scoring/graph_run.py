"""Feature reading and prediction write-back on the graph already in Neo4j (nothing is wiped
or imported), old and new side by side in one run: the one command for a 1M-profile graph.

    segments import /path/to/demo-1000000-csv            # once, the default schema
    python -m bench.scoring.graph_run                    # Customer profiles, all of them
    python -m bench.scoring.graph_run --baseline 100000  # the old path on 100k of them only

1. features: every profile's feature row read by the column path (`server.features.batches`,
   with 1 and 2 workers) and by the former per-profile Cypher (on `--baseline` profiles, all
   by default), timed, per profile and extrapolated to 1M; the rows they share must agree.
2. predictions (`--outcome`, a boolean or numeric attribute of the profile): a stored
   predictive model trained and run by the workers' code (`server.predict`): a first scoring
   run writes every profile's prediction, a second writes nothing; the phases of each run
   from its own progress events. The bench's model, its history and the written properties
   are removed afterwards (`--keep` leaves them).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import neo4j
import numpy as np

from bench.scoring.predict_run import Phases
from graph_schema import GraphSchema, default_schema, load_schema
from server.features import FeaturePlan, discover_categories, plan_features, profile_keys
from server.features.extract import Method, extract_features
from server.leads import schema_attributes as a
from server.leads.schema_attributes import with_score_attributes
from server.predict import store
from server.predict.score import score
from server.predict.spec import PredictSpec
from server.predict.train import PredictEnv, train
from server.services import neo4j as neo4j_service
from server.settings import get_settings
from server.store import Db, ensure_schema

T = TypeVar("T")
MILLION = 1_000_000


def timed(work: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def neo4j_cpu() -> float | None:
    """CPU seconds the local Neo4j of NEO4J_URI has used (None when it is not ours to read):
    on a shared machine wall time depends on the neighbours, CPU time much less."""
    pid = neo4j_service.status(get_settings()).pid
    if pid is None:
        return None
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Cost:
    wall: float
    python_cpu: float
    neo4j_cpu: float | None

    def per(self, profiles: int) -> str:
        """Seconds, and per profile and per 1M: wall, then CPU of this process and Neo4j."""
        n = max(profiles, 1)
        cpu = f"python {self.python_cpu / n * 1e6:.0f}"
        if self.neo4j_cpu is not None:
            cpu += f" + neo4j {self.neo4j_cpu / n * 1e6:.0f}"
        return (f"{self.wall:.1f} s wall ({self.wall / n * 1e6:.0f} us/profile, "
                f"~{self.wall / n * MILLION:.0f} s per 1M); CPU us/profile: {cpu}")  # fmt: skip


def measured(work: Callable[[], T]) -> tuple[T, Cost]:
    wall, cpu, server = time.perf_counter(), time.process_time(), neo4j_cpu()
    result = work()
    after = neo4j_cpu()
    used = None if server is None or after is None else after - server
    return result, Cost(time.perf_counter() - wall, time.process_time() - cpu, used)


def features_phase(
    driver: neo4j.Driver, schema: GraphSchema, plan: FeaturePlan, keys: list[Any],
    now: dt.datetime, baseline: int, workers: list[int],
) -> None:  # fmt: skip
    print(f"{len(keys):,} {plan.profile.name} profiles x {len(plan.features)} features")
    found: dict[int, np.ndarray[Any, Any]] = {}
    for w in workers:
        extraction, cost = measured(
            partial(extract_features, driver, schema, plan, keys, now=now, workers=w)
        )
        found[w] = extraction.matrix.values
        print(f"  columns, {w} worker(s): {cost.per(len(keys))}")
    sample = keys[:baseline] if baseline else keys
    old, cost = measured(lambda: extract_features(driver, schema, plan, sample, now=now,
                                                  method=Method.PER_PROFILE))  # fmt: skip
    print(f"  per-profile Cypher (before), {len(sample):,} profiles: {cost.per(len(sample))}")
    new = found[workers[0]][: len(sample)]
    same = np.isclose(new, old.matrix.values, rtol=1e-9, atol=1e-9, equal_nan=True)
    print(f"  rows equal to the per-profile Cypher's: {int(same.all(axis=1).sum()):,} of "
          f"{len(sample):,}")  # fmt: skip
    if not same.all():
        bad = sorted({plan.features[j].name for j in np.nonzero(~same)[1]})
        print(f"  DIFFERENT in: {', '.join(bad[:10])}")


async def predictions_phase(
    schema: GraphSchema, profile: str, outcome: str, max_hops: int, keep: bool,
    categories: bool = False,
) -> None:  # fmt: skip
    settings = get_settings()
    auth = (settings.neo4j_user, settings.neo4j_password)
    async with neo4j.AsyncGraphDatabase.driver(
        settings.neo4j_uri, auth=auth, notifications_min_severity="OFF"
    ) as driver:
        db = Db(driver, settings.neo4j_database)
        await ensure_schema(db)
        phases = CpuPhases()
        env = PredictEnv(db=db, schema=with_score_attributes(schema), publish=phases,
                         category_features=categories)  # fmt: skip
        spec = PredictSpec(audience=profile, outcome=outcome, exclude=(), max_hops=max_hops)
        now = dt.datetime.now(dt.UTC)
        name = f"bench-{now:%Y%m%d%H%M%S}"
        model = await store.create_model(db, name, name, "", spec, profile, (), "bench", now)
        try:
            started = time.monotonic()
            version = await train(env, model.id, "bench")
            assert version is not None
            print(f"training run: {time.monotonic() - started:.1f} s, ROC AUC "
                  f"{version.metadata['metrics']['roc_auc']:.3f}")  # fmt: skip
            print("\n".join(phases.lines()))
            await store.publish_version(db, model.id, version.version, now)
            for label in ("first scoring run (writes every profile)",
                          "second scoring run (writes nothing)"):  # fmt: skip
                phases.marks.clear()
                phases.cpu.clear()
                started = time.monotonic()
                run = await score(env, model.id)
                assert run is not None
                print(f"{label}: {time.monotonic() - started:.1f} s, scored {run.scored:,}, "
                      f"written {run.changed:,}")  # fmt: skip
                print("\n".join(phases.lines()))
        finally:
            if not keep:
                await remove_model(db, model.id, schema.require_entity(profile).label)


async def remove_model(db: Db, model_id: str, label: str) -> None:
    """The bench model's nodes, history and the properties its runs wrote."""
    written = ", ".join(f"p.`{x}`" for x in (
        a.LEAD_PROBABILITY, a.PREDICTED_SCORE, a.FACTOR_PACK, a.FACTORS, a.FACTOR_POINTS,
        a.FACTOR_LOG_ODDS, a.FACTOR_VALUES, a.PREDICTED_BY))  # fmt: skip
    history = f"p.`{a.PREDICTED_HISTORY}`"
    for text in (
        f"MATCH (p:`{label}`) WHERE p.`{a.PREDICTED_BY}` STARTS WITH $id "
        f"CALL (p) {{ REMOVE {written} }} IN TRANSACTIONS OF 20000 ROWS",
        f"MATCH (p:`{label}`) WHERE {history} IS NOT NULL CALL (p) {{ "
        f"WITH p, [e IN {history} WHERE NOT e STARTS WITH $id + '|'] AS kept "
        f"SET {history} = CASE WHEN kept = [] THEN null ELSE kept END "
        "} IN TRANSACTIONS OF 20000 ROWS",
        "MATCH (h:_ScoreHistory {modelId: $id}) CALL (h) { DELETE h } "
        "IN TRANSACTIONS OF 20000 ROWS",
        "MATCH (n) WHERE (n:_LeadModel AND n.id = $id) OR (n:_LeadModelVersion AND "
        "n.modelId = $id) OR (n:_ScoreRun AND n.modelId = $id) DETACH DELETE n",
    ):
        await db.auto(text, id=model_id)


class CpuPhases(Phases):
    """Phases with the Neo4j CPU seconds each used (on a shared machine the steadier
    figure)."""

    def __init__(self) -> None:
        super().__init__()
        self.cpu: list[float | None] = []

    async def __call__(self, event: dict[str, Any]) -> None:
        if not self.marks or self.marks[-1][0] != event["phase"]:
            self.cpu.append(neo4j_cpu())
        await super().__call__(event)

    def lines(self) -> list[str]:
        cpu = zip(self.cpu, self.cpu[1:], strict=False)
        return [
            f"{line} (neo4j cpu {b - a:.1f} s)" if a is not None and b is not None else line
            for line, (a, b) in zip(super().lines(), cpu, strict=False)
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--schema", help="graph schema YAML (default: the built-in one)")
    parser.add_argument("--profile", default="Customer")
    parser.add_argument("--max-hops", type=int, default=2)
    parser.add_argument("--baseline", type=int, default=0,
                        help="profiles the per-profile Cypher reads (0: all)")  # fmt: skip
    parser.add_argument("--workers", default="2,1", help="column-path workers to time")
    parser.add_argument("--outcome", default="newsletter",
                        help="the prediction phase's outcome attribute ('' skips it)")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the bench model's writes")
    parser.add_argument("--categories", action="store_true",
                        help="also count activities by category (100 features)")  # fmt: skip
    parser.add_argument("--predictions-only", action="store_true",
                        help="skip the feature-reading comparison")  # fmt: skip
    parser.add_argument("--now", help="ISO datetime the features are read as of (default: now)")
    args = parser.parse_args()
    schema = load_schema(args.schema) if args.schema else default_schema()
    now = dt.datetime.fromisoformat(args.now) if args.now else dt.datetime.now(dt.UTC)
    if not args.predictions_only:
        features_run(args, schema, now)
    if args.outcome:
        asyncio.run(predictions_phase(schema, args.profile, args.outcome, args.max_hops,
                                      args.keep, args.categories))  # fmt: skip


def features_run(args: argparse.Namespace, schema: GraphSchema, now: dt.datetime) -> None:
    settings = get_settings()
    auth = (settings.neo4j_user, settings.neo4j_password)
    with neo4j.GraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver:
        categories = discover_categories(driver, schema, args.profile, max_hops=args.max_hops
                                         ) if args.categories else {}  # fmt: skip
        plan = plan_features(schema, args.profile, categories=categories,
                             max_hops=args.max_hops)  # fmt: skip
        keys, seconds = timed(lambda: profile_keys(driver, plan.profile))
        print(f"profile keys: {seconds:.1f} s")
        workers = [int(w) for w in args.workers.split(",")]
        features_phase(driver, schema, plan, keys, now, args.baseline, workers)


if __name__ == "__main__":
    main()
