"""Where the real Neo4j and the documented semantics still part, pinned one case each.

Each is a strict xfail: the day the importer or the compiler closes the gap, the test fails and
should become a plain assertion (and the value can return to the random pools of
tests/grammar/random_data.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import neo4j
import pytest

import grammar
from grammar.evaluate import Dataset, evaluate_segment
from tests.grammar.schemas import CLUB, NOW

PLUS_ONE = dt.timezone(dt.timedelta(hours=1))


def both(driver: neo4j.Driver, member: dict[str, Any], condition: str) -> tuple[bool, bool]:
    """(evaluator selects the member, Neo4j selects it) for a one-member club."""
    driver.execute_query("CREATE (m:ClubMember) SET m = $row", row={"memberId": "m", **member})
    compiled = grammar.compile_segment(f"segment Member where {condition}", CLUB, now=NOW)
    data = Dataset(entities={"Member": {"m": member}})
    records = driver.execute_query(compiled.cypher, compiled.params).records
    return bool(evaluate_segment(compiled.bound, data)), bool(records)


@pytest.mark.services
@pytest.mark.xfail(strict=True, reason="Neo4j orders -0.0 below 0.0 although -0.0 = 0.0")
def test_negative_zero_is_zero(empty_graph: neo4j.Driver) -> None:
    evaluator, engine = both(empty_graph, {"spend": -0.0}, "spend < 0")
    assert evaluator == engine  # evaluator: False (IEEE), Neo4j: True


@pytest.mark.services
@pytest.mark.xfail(strict=True, reason="Neo4j: equal instants in different offsets are unequal")
def test_datetime_stored_with_an_offset_equals_the_same_instant(
    empty_graph: neo4j.Driver,
) -> None:
    moment = dt.datetime(2026, 3, 1, 11, tzinfo=PLUS_ONE)  # 10:00Z, as the importer keeps it
    evaluator, engine = both(empty_graph, {"lastSeen": moment}, "lastSeen = 2026-03-01T10:00:00Z")
    assert evaluator == engine  # evaluator: True, Neo4j: False (and `>` would be True)


@pytest.mark.services
def test_regex_dot_matches_a_carriage_return(empty_graph: neo4j.Driver) -> None:
    evaluator, engine = both(empty_graph, {"nickname": "a\rb"}, 'nickname matches "a.b"')
    assert evaluator == engine  # both False: the compiler spells `.` out for both engines


@pytest.mark.parametrize(
    "pattern",
    [
        "(?P<x>a)",  # Neo4j: SemanticError when the query runs
        "a{,2}",  # Python 3.11: 0 to 2; Neo4j: SemanticError when the query runs
        "[a&&b]",  # Java: intersection (matches nothing); Python: a, & or b
        "[[:alpha:]]",  # Java: a nested class; Python: a literal set then `]`
        "${p0}",  # Python: a literal `{`; Java: "Illegal repetition" when the query runs
        "a{b}",  # the same (found by tests/reliability/test_injection.py)
    ],
)
def test_regexes_outside_the_common_dialect_are_rejected(pattern: str) -> None:
    text = f'segment Member where nickname matches "{pattern}"'
    with pytest.raises(grammar.SegmentError) as raised:
        grammar.compile_segment(text, CLUB, now=NOW)
    assert raised.value.code == "INVALID_REGEX"


@pytest.mark.services
@pytest.mark.parametrize("pattern", ["a{2}", "a{1,}", "a{1,3}", "\\\\{x}", "[{]"])
def test_braces_that_both_engines_read_alike_are_kept(
    empty_graph: neo4j.Driver, pattern: str
) -> None:
    evaluator, engine = both(empty_graph, {"nickname": "aa{x}"}, f'nickname matches "{pattern}"')
    assert evaluator == engine
