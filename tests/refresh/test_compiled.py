"""End to end with the real segment compiler: definitions in the segment language, a compound
segment reading its input's new active version in the same pass."""

from __future__ import annotations

import pytest

from graph_schema import default_schema
from server.refresh.graph import Graph, rows
from server.refresh.passes import refresh_pass
from server.refresh.progress import Publish
from server.refresh.records import RunStatus
from server.refresh.refresh import RefreshEnv

grammar = pytest.importorskip("grammar")
if not hasattr(grammar, "compile_segment"):
    pytest.skip("the segment compiler is not in this build", allow_module_level=True)

from server.refresh.definitions import grammar_compiler  # noqa: E402
from tests.refresh.helpers import make_segment, segment_props  # noqa: E402

pytestmark = pytest.mark.anyio


async def _quiet(event: dict[str, object]) -> None:
    return None


async def test_compiled_definitions_refresh_in_dependency_order(graph: Graph) -> None:
    satisfaction = {f"c{i}": i for i in range(100)}
    await graph.write(
        lambda tx: rows(
            tx,
            "UNWIND keys($s) AS k CREATE (:Customer {customerId: k, satisfaction: $s[k]})",
            s=satisfaction,
        )
    )
    await make_segment(graph, "happy", "segment Customer where satisfaction >= 50")
    await make_segment(
        graph, "delighted", "segment Customer where in segment happy and satisfaction >= 90",
        reads=("happy",),
    )  # fmt: skip
    for sid in ("happy", "delighted"):
        await graph.write(
            lambda tx, sid=sid: rows(  # type: ignore[misc]
                tx, "MATCH (s:_Segment {id: $id}) SET s.audience = 'Customer'", id=sid
            )
        )
    publish: Publish = _quiet
    env = RefreshEnv(graph=graph, compiler=grammar_compiler(default_schema()), publish=publish)

    outcomes = await refresh_pass(env, ["delighted", "happy"], "MANUAL")

    assert [(o.segment_id, o.status) for o in outcomes] == [
        ("happy", RunStatus.SUCCESSFUL), ("delighted", RunStatus.SUCCESSFUL)
    ]  # fmt: skip
    assert [o.member_count for o in outcomes] == [50, 10]
    assert (await segment_props(graph, "delighted"))["activeVersion"] == 1
