"""The predicted score's history kept on the profile (`server.leads.packed`): written by the
scoring run's statement, read back by `server.leads.reads.history` as the node per entry was,
however many entries moved out to `_ScoreHistory` nodes."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import neo4j
import numpy as np

from bench.scoring.write_shapes import before_text
from graph_schema import default_schema
from server.leads import packed, reads
from server.leads import schema_attributes as a
from server.leads.records import HistoryEntry
from server.predict import score
from server.settings import Settings
from tests.leads.test_run import run

MODEL, OTHER = "a" * 32, "b" * 32
START = dt.datetime(2026, 3, 1, 9, 30, 0, 123000, tzinfo=dt.UTC)
CUSTOMER = default_schema().require_entity("Customer")


def row(model_id: str, at: dt.datetime, score_: int | None) -> dict[str, Any]:
    factors = [3.0, 1.0, 0.0, 0.0, 0.0, 2.5, -1.25, 0.0, 0.0, 0.0, 0.4, -0.2, 0, 0, 0,
               7.0, math.nan, 0, 0, 0]  # fmt: skip
    return {"key": "c1", "probability": None if score_ is None else score_ / 100,
            "score": score_, "factors": None if score_ is None else factors,
            "by": None if score_ is None else f"{model_id}:2",
            "entry": packed.history_entry(model_id, at, 2, score_)}  # fmt: skip


def test_history_beyond_the_kept_entries_moves_to_nodes_and_reads_back_whole(
    empty_graph: neo4j.Driver, settings: Settings
) -> None:
    empty_graph.execute_query("CREATE (:Customer {customerId: 'c1'})")
    changes = packed.KEEP + 6
    ats = [START + dt.timedelta(hours=2 * i) for i in range(changes)]
    scores: list[int | None] = [i % 100 for i in range(changes - 1)] + [None]  # then left

    async def work(db: Any) -> tuple[list[HistoryEntry], list[HistoryEntry], Any]:
        for i, (at, s) in enumerate(zip(ats, scores, strict=True)):
            await score._write(db, CUSTOMER, [row(MODEL, at, s)])
            if i == 3:  # another model's change in between: not part of this model's history
                await score._write(db, CUSTOMER, [row(OTHER, at, 50)])
        lead = await db.read("MATCH (p:Customer {customerId: 'c1'}) RETURN properties(p) AS p")
        props = dict(lead[0]["p"])
        kept = tuple(props[a.PREDICTED_HISTORY])
        return (await reads.history(db, MODEL, "c1", 1000, kept),
                await reads.history(db, MODEL, "c1", 3, kept), props)  # fmt: skip

    whole, first_three, props = run(settings, work)
    expected = [HistoryEntry(at=at, version=2, score=s, grade=None, sales_ready=False)
                for at, s in zip(ats, scores, strict=True)][::-1]  # fmt: skip
    assert whole == expected
    assert first_three == expected[:3]
    assert len(props[a.PREDICTED_HISTORY]) == packed.KEEP
    nodes = empty_graph.execute_query(
        "MATCH (h:_ScoreHistory) RETURN h.modelId AS m, h.score AS s, h.at AS at, "
        "h.version AS v ORDER BY h.modelId, h.at"
    ).records  # fmt: skip
    # 27 entries appended, 20 kept: the oldest 7 moved out, six of this model, the other's one
    assert [(r["m"], r["s"], r["at"].to_native(), r["v"]) for r in nodes] == [
        (MODEL, s, at, 2) for s, at in zip(scores[:6], ats[:6], strict=True)
    ] + [(OTHER, 50, ats[3], 2)]


def test_factors_are_stored_as_one_list_and_read_as_four(
    empty_graph: neo4j.Driver, settings: Settings
) -> None:
    empty_graph.execute_query("CREATE (:Customer {customerId: 'c1'})")

    async def work(db: Any) -> dict[str, Any]:
        await score._write(db, CUSTOMER, [row(MODEL, START, 40)])
        found = await db.read("MATCH (p:Customer {customerId: 'c1'}) RETURN properties(p) AS p")
        return dict(found[0]["p"])

    props = run(settings, work)
    assert len(props["_leadFactorPack"]) == 20
    lead = reads._to_row(props, "customerId", reads.PREDICTIVE)
    assert lead.factors is not None
    features, points, log_odds, values = lead.factors
    assert (features, points, log_odds) == ([3, 1, 0, 0, 0], [2.5, -1.25, 0, 0, 0],
                                            [0.4, -0.2, 0, 0, 0])  # fmt: skip
    assert values[0] == 7.0
    assert math.isnan(values[1])


def test_reads_answer_as_from_the_former_nodes_and_lists(
    empty_graph: neo4j.Driver, settings: Settings
) -> None:
    """Differential: the same runs' rows written the former way (four lists, a node per
    entry: `bench.scoring.write_shapes.before_text`) on profiles o0.., and the current way on
    n0..; every profile's factors and history read back the same."""
    rng = np.random.default_rng(5)
    count, runs = 60, 4
    empty_graph.execute_query(
        "UNWIND range(0, $n - 1) AS i CREATE (:Customer {customerId: 'o' + i}), "
        "(:Customer {customerId: 'n' + i})", n=count
    )  # fmt: skip
    before = before_text(CUSTOMER)

    async def work(db: Any) -> list[tuple[Any, Any]]:
        held: list[int | None] = [None] * count
        for r in range(runs):
            at = START + dt.timedelta(hours=2 * r)
            rows = []
            for i in range(count):
                new = None if rng.random() < 0.1 else int(rng.integers(0, 4)) * 25
                if new == held[i] or (new is None and held[i] is None):
                    continue
                held[i] = new
                one = row(MODEL, at, new) | {"key": i}
                if new is not None:
                    positions = rng.permutation(50)[:5].astype(float).tolist()
                    one["factors"] = positions + rng.normal(0, 3, 15).round(3).tolist()
                rows.append(one)
            await score._write(db, CUSTOMER, [x | {"key": f"n{x['key']}"} for x in rows])
            old = [x | {"key": f"o{x['key']}"} for x in rows]
            await db.write(lambda tx, old=old, at=at: _run(tx, before, rows=old, at=at))
        found = await db.read("MATCH (p:Customer) RETURN properties(p) AS p")
        by_key = {p["customerId"]: p for p in (dict(r["p"]) for r in found)}
        out = []
        for i in range(count):
            o, n = by_key[f"o{i}"], by_key[f"n{i}"]
            o_row = reads._to_row(o, "customerId", reads.PREDICTIVE) if o.get(
                a.PREDICTED_SCORE) is not None else None  # fmt: skip
            n_row = reads._to_row(n, "customerId", reads.PREDICTIVE) if n.get(
                a.PREDICTED_SCORE) is not None else None  # fmt: skip
            o_hist = await reads.history(db, MODEL, f"o{i}", 100)
            n_hist = await reads.history(db, MODEL, f"n{i}", 100,
                                         tuple(n.get(a.PREDICTED_HISTORY) or ()))  # fmt: skip
            out.append(((o_row and (o_row.score, _nan_free(o_row.factors)), o_hist),
                        (n_row and (n_row.score, _nan_free(n_row.factors)), n_hist)))  # fmt: skip
        return out

    compared = run(settings, work)
    assert [old for old, _ in compared] == [new for _, new in compared]
    assert sum(len(old[1]) for old, _ in compared) > count  # histories of several entries


async def _run(tx: Any, text: str, **params: Any) -> None:
    await (await tx.run(text, {"modelId": MODEL, "version": 2, **params})).consume()


def _nan_free(factors: Any) -> Any:
    return None if factors is None else [[None if x != x else x for x in f] for f in factors]
