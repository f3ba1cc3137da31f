"""The query forms the engine runs for one segment, all sharing the same condition text.

- members: every matching profile key;
- count: how many;
- members_in_keys: the matching keys among `$keys`, a list without repeats (incremental
  refresh, "is X in?", sampled estimates). The keys are matched first, on their own: given
  `key IN $keys` among the other predicates, the planner could not tell the list's size and
  scanned a range index of half the audience instead (3 s against 0.2 s on 1M profiles);
- clause_counts: the audience size and, per top-level clause, how many profiles satisfy it
  (for estimates), in one scan.

members and count start from the related records of one `any` clause instead of the audience
when `grammar.cypher.candidates` finds one selective through its indexes: `MATCH` the pattern
from the profile with that clause's condition (the planner seeks the related records' index),
`WITH DISTINCT` profile, then the other clauses. members_in_keys (its keys are the candidates)
and clause_counts (every profile is counted) keep the audience scan.

Each starts with the printer's prelude when the segment reads stored segments (`in segment`):
one row binding each one's node and active version, then the profile MATCH.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from grammar import bound as b
from grammar.cypher import escape
from grammar.cypher.candidates import conjuncts, driving_clause
from grammar.cypher.printer import CompiledCypher, ExpressionPrinter, Scope
from grammar.walk import groups_of

KEYS_PARAM = "keys"


@dataclass(frozen=True)
class CypherForms:
    members: CompiledCypher
    count: CompiledCypher
    members_in_keys: CompiledCypher
    segment: b.BoundSegment
    label: str  # the profile pattern's label part, `(n0:Customer)`
    driving_clause: int | None = None  # the top-level clause members/count start from

    @cached_property
    def clause_counts(self) -> CompiledCypher:
        """Printed on first use: only estimates and explanations read it."""
        return _clause_counts(self.segment, self.label)


def top_level_clauses(segment: b.BoundSegment) -> tuple[b.BoundCondition | b.BoundSetExpr, ...]:
    """The conjuncts of a single group, or the groups of a set expression."""
    items = conjuncts(segment)
    return items if items is not None else tuple(groups_of(segment.body))


def print_cypher(segment: b.BoundSegment, *, candidates: bool = True) -> CypherForms:
    """Every form of the segment's query. Pure: the same bound segment gives the same bytes.
    Without `candidates`, members and count always scan the audience (benchmarks compare)."""
    printer = ExpressionPrinter()
    root = Scope(node=printer.node())
    items = conjuncts(segment)
    driver = None if items is None or not candidates else driving_clause(items)
    texts: list[str] = []
    driving = ""
    if items is None or driver is None:
        where = printer.set_expr(segment.body, root)
    else:
        for index, item in enumerate(items):
            if index == driver:
                assert isinstance(item, b.BoundRelated)
                driving = printer.related_match(item, root)
                texts.append(f"EXISTS {{ {driving} }}")  # as `expr` prints it
            else:
                texts.append(printer.expr(item, root))
        single = not isinstance(segment.body, b.BoundGroup) or not isinstance(
            segment.body.condition, b.BoundAnd
        )
        where = texts[0] if single else "(" + " AND ".join(texts) + ")"
    params = printer.param_dict()
    key = escape.prop(root.node, segment.audience.key_attribute)
    label = f"({root.node}:{escape.label(segment.audience)})"
    match = f"{printer.prelude()}MATCH {label}"
    members = f"{match}\nWHERE {where}\nRETURN {key} AS key"
    count = f"{match}\nWHERE {where}\nRETURN count({root.node}) AS count"
    # An aggregation is a horizon the planner cannot push the other predicates through.
    grouped = "".join(f"{v}, " for v in printer.prelude_variables())
    carried = ", ".join((root.node, *printer.prelude_variables()))
    in_keys = (
        f"{match}\nWHERE {key} IN ${KEYS_PARAM}\n"
        f"WITH {grouped}collect({root.node}) AS keyed\nUNWIND keyed AS {root.node}\n"
        f"WITH {carried}\nWHERE {where}\nRETURN {key} AS key"
    )
    if driver is not None:
        anchor = f"MATCH ({root.node})"
        assert driving.startswith(anchor)
        rest = " AND ".join(t for index, t in enumerate(texts) if index != driver)
        head = (
            f"{printer.prelude()}MATCH {label}{driving[len(anchor) :]}\n"
            f"WITH DISTINCT {carried}\n" + (f"WHERE {rest}\n" if rest else "")
        )
        members = f"{head}RETURN {key} AS key"
        count = f"{head}RETURN count({root.node}) AS count"
    return CypherForms(
        members=CompiledCypher(members, params),
        count=CompiledCypher(count, params),
        members_in_keys=CompiledCypher(in_keys, params),
        segment=segment,
        label=label,
        driving_clause=driver,
    )


def _clause_counts(segment: b.BoundSegment, label: str) -> CompiledCypher:
    """Each clause is projected first: Cypher forbids subquery aggregates inside count()."""
    printer = ExpressionPrinter()
    root = Scope(node=printer.node())
    tests, counts = [], [f"count({root.node}) AS total"]
    for index, clause in enumerate(top_level_clauses(segment)):
        if isinstance(clause, b.BoundGroup | b.BoundSetOperation):
            test = printer.set_expr(clause, root)
        else:
            test = printer.expr(clause, root)
        tests.append(f"{test} AS c{index}")
        counts.append(f"count(CASE WHEN c{index} THEN 1 END) AS c{index}")
    carried = ", ".join((root.node, *printer.prelude_variables()))
    match = f"{printer.prelude()}MATCH {label}"
    projection = ",\n     ".join((carried, *tests))
    text = f"{match}\nWITH {projection}\nRETURN " + ", ".join(counts)
    return CompiledCypher(text, printer.param_dict())
