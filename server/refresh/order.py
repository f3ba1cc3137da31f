"""Dependency order between segments: one topological pass, cycle detection, and who is
downstream of a failed input. Pure functions over `{segment id: ids it reads}`."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from server.refresh.graph import Graph

Dependencies = Mapping[str, Collection[str]]


class DependencyCycle(Exception):
    """Segments read each other in a loop; `cycle` lists it, first id repeated at the end."""

    def __init__(self, cycle: list[str]) -> None:
        super().__init__(" -> ".join(cycle))
        self.cycle = cycle


def find_cycle(deps: Dependencies) -> list[str] | None:
    """A dependency loop if there is one (deterministic: smallest ids explored first)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(deps.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(deps):
        if start not in state and (found := visit(start)):
            return found
    return None


def topological_order(ids: Iterable[str], deps: Dependencies) -> list[str]:
    """`ids` ordered so that each comes after the ids among them it reads (directly or through
    segments outside `ids`); ties by id. Raises DependencyCycle."""
    wanted = set(ids)
    if cycle := find_cycle(deps):
        raise DependencyCycle(cycle)
    done: list[str] = []
    seen: set[str] = set()

    def visit(node: str) -> None:
        seen.add(node)
        for nxt in sorted(deps.get(node, ())):
            if nxt not in seen:
                visit(nxt)
        if node in wanted:
            done.append(node)

    for node in sorted(wanted):
        if node not in seen:
            visit(node)
    return done


def upstream_failure(node: str, deps: Dependencies, failed: Mapping[str, str]) -> str | None:
    """The first failed input `node` reads directly or transitively, as a reason text."""
    stack, seen = list(deps.get(node, ())), set[str]()
    while stack:
        nxt = stack.pop()
        if nxt in failed:
            return f"input {nxt} {failed[nxt]}"
        if nxt not in seen:
            seen.add(nxt)
            stack.extend(deps.get(nxt, ()))
    return None


async def load_dependencies(graph: Graph) -> dict[str, list[str]]:
    """Every segment's inputs, from the `_DEPENDS_ON` links the API keeps with definitions."""
    records = await graph.read(
        "MATCH (s:_Segment) RETURN s.id AS id, [(s)-[:_DEPENDS_ON]->(t:_Segment) | t.id] AS refs"
    )
    return {r["id"]: sorted(r["refs"]) for r in records}


async def check_references(graph: Graph, segment_id: str, references: Collection[str]) -> None:
    """Refuse a definition whose references (segment ids) would close a loop; call when a
    definition is saved. Raises DependencyCycle naming the loop."""
    deps = await load_dependencies(graph)
    deps[segment_id] = sorted(references)
    if cycle := find_cycle(deps):
        raise DependencyCycle(cycle)
