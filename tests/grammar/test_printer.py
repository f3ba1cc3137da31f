"""Printer details: quoting, directions, relationship attributes, forms, explain."""

from __future__ import annotations

import datetime as dt

import pytest

import grammar
from graph_schema import Attribute, AttrType, Entity, GraphSchema, Relationship
from tests.grammar.schemas import CLUB, DEFAULT, NOW


def test_identifiers_come_from_the_schema_and_are_always_quoted() -> None:
    compiled = grammar.compile_segment("segment member where NICKNAME = 'x'", CLUB, now=NOW)
    assert compiled.cypher == (
        "MATCH (n0:`ClubMember`)\nWHERE n0.`nickname` = $p0\nRETURN n0.`memberId` AS key"
    )
    assert compiled.params == {"p0": "x"}


def test_backticks_in_physical_names_are_doubled() -> None:
    odd = Entity(
        name="Odd",
        label="Od`d",
        key="k",
        profile=True,
        attributes=(Attribute(name="k", type=AttrType.STRING),),
    )
    schema = GraphSchema(entities=(odd,), relationships=())
    compiled = grammar.compile_segment("segment Odd where k = 'a'", schema, now=NOW)
    assert compiled.cypher.startswith("MATCH (n0:`Od``d`)")


def test_walking_against_a_relationship_direction() -> None:
    compiled = grammar.compile_segment(
        "segment Account where any Contact (role = 'primary')", DEFAULT, now=NOW
    )
    # role is indexed: the members query starts from the contacts, the other forms scan
    assert "(n0:`Account`)<-[r0:`WORKS_AT`]-(n1:`Contact`)" in compiled.cypher
    assert "(n0)<-[r0:`WORKS_AT`]-(n1:`Contact`)" in compiled.forms.members_in_keys.text


def test_relationship_attributes_use_the_step_variable() -> None:
    compiled = grammar.compile_segment(
        "segment Contact where any Account (WORKS_AT.isPrimary is true)", DEFAULT, now=NOW
    )
    assert "(n0)-[r0:`WORKS_AT`]->(n1:`Account`) WHERE r0.`isPrimary` = $p0" in compiled.cypher


def test_forms_share_their_parameters() -> None:
    compiled = grammar.compile_segment(
        "segment Customer where city = 'Paris' and any Order (total > 5)", DEFAULT, now=NOW
    )
    forms = compiled.forms
    assert forms.count.params == forms.members.params == forms.clause_counts.params
    # The keys alone first, behind an aggregation the planner cannot push predicates through.
    assert (
        "WHERE n0.`customerId` IN $keys\nWITH collect(n0) AS keyed\n" in forms.members_in_keys.text
    )
    assert forms.count.text.endswith("RETURN count(n0) AS count")
    assert "AS c0" in forms.clause_counts.text
    assert "AS c1" in forms.clause_counts.text
    assert compiled.clauses == ('city = "Paris"', "any Order (total > 5)")


def test_new_now_changes_parameters_only() -> None:
    text = "segment Customer where createdOn in last 7 days and birthDate anniversary is today"
    one = grammar.compile_segment(text, DEFAULT, now=NOW)
    two = grammar.compile_segment(text, DEFAULT, now=NOW + dt.timedelta(days=40))
    assert one.cypher == two.cypher
    assert one.params != two.params


def test_declared_time_zone_wins_over_the_default() -> None:
    text = 'segment Customer timezone "Asia/Tokyo" where createdOn is today'
    compiled = grammar.compile_segment(text, DEFAULT, now=NOW, timezone="America/New_York")
    assert compiled.timezone == "Asia/Tokyo"
    assert compiled.params["p0"] == dt.date(2026, 3, 29)
    other = grammar.compile_segment(
        "segment Customer where createdOn is today",
        DEFAULT,
        now=dt.datetime(2026, 3, 29, 2, 0, tzinfo=dt.UTC),
        timezone="America/New_York",
    )
    assert other.params["p0"] == dt.date(2026, 3, 28)


def test_explain() -> None:
    text = "segment Customer where any WebSession (sessionId != 1) and in segment vip"
    explanation = grammar.explain(text, DEFAULT, now=NOW)
    assert explanation.paths == (
        "Customer -HAS_ONLINE_ACCOUNT-> OnlineAccount -STARTED-> WebSession",
    )
    assert explanation.referenced_segments == ("vip",)
    assert explanation.timezone == "UTC"
    assert explanation.now == NOW
    assert [c[1] for c in explanation.clauses] == ["c0", "c1"]
    assert explanation.cypher.startswith("OPTIONAL MATCH (s0:`_Segment` {`name`: $p1})\n")
    assert "\nMATCH (n0:`Customer`)\n" in explanation.cypher


def test_engine_labels_are_read_for_segment_references() -> None:
    compiled = grammar.compile_segment("segment Customer where in segment vip", DEFAULT, now=NOW)
    assert compiled.cypher == (
        "OPTIONAL MATCH (s0:`_Segment` {`name`: $p0})\n"
        "WITH s0, s0.`activeVersion` AS v0\n"
        "MATCH (n0:`Customer`)\n"
        "WHERE EXISTS { MATCH (s0)-[r0:`_MEMBER`]->(n0) "
        "WHERE r0.`since` <= v0 AND (r0.`until` IS NULL OR r0.`until` > v0) }\n"
        "RETURN n0.`customerId` AS key"
    )
    assert compiled.params == {"p0": "vip"}


SEVERAL_REFERENCES = (
    "segment Customer where (in segment vip or any Order (total > 5 and in segment vip)) "
    "and not in segment churned and city = 'Paris' and in segment vip"
)


@pytest.mark.parametrize("form", ["members", "count", "members_in_keys", "clause_counts"])
def test_each_referenced_segment_version_is_read_once_per_query(form: str) -> None:
    """Neo4j reads at read-committed isolation: a version read per profile row could change
    mid-query (a refresh switching it), so every form binds it once, before the profile MATCH."""
    compiled = grammar.compile_segment(SEVERAL_REFERENCES, DEFAULT, now=NOW)
    text = getattr(compiled.forms, form).text
    prelude, rest = text.split("\nMATCH (n0:`Customer`)\n")
    assert prelude == (
        "OPTIONAL MATCH (s0:`_Segment` {`name`: $p0})\n"
        "OPTIONAL MATCH (s1:`_Segment` {`name`: $p2})\n"
        "WITH s0, s0.`activeVersion` AS v0, s1, s1.`activeVersion` AS v1"
    )
    assert text.count("activeVersion") == 2  # one read per distinct name, none per profile
    assert "_Segment" not in rest
    assert rest.count("MATCH (s0)-[") == 3
    assert rest.count("MATCH (s1)-[") == 1
    assert "(s0)-[r2:`_MEMBER`]->(n1) WHERE r2.`since` <= v0" in rest  # nested in the Order
    assert compiled.params == {"p0": "vip", "p1": 5.0, "p2": "churned", "p3": "Paris"}
    again = grammar.compile_segment(SEVERAL_REFERENCES, DEFAULT, now=NOW)
    assert getattr(again.forms, form) == getattr(compiled.forms, form)


def test_clause_counts_carry_the_prelude_variables() -> None:
    """Neo4j takes a COLLECT { ... sum() } in a WITH for an aggregation, and rejects outer
    variables that WITH does not project."""
    text = "segment Customer where sum Order.total (in segment vip) > 5 and in segment x"
    counts = grammar.compile_segment(text, DEFAULT, now=NOW).forms.clause_counts.text
    assert "\nMATCH (n0:`Customer`)\nWITH n0, s0, v0, s1, v1,\n     COLLECT {" in counts


def test_segments_without_references_have_no_prelude() -> None:
    compiled = grammar.compile_segment("segment Customer where city = 'x'", DEFAULT, now=NOW)
    forms = compiled.forms
    for form in (forms.members, forms.count, forms.members_in_keys, forms.clause_counts):
        assert form.text.startswith("MATCH (n0:`Customer`)\n")


def test_relationships_of_a_profile_to_itself() -> None:
    person = Entity(
        name="Person",
        label="Person",
        key="id",
        profile=True,
        attributes=(Attribute(name="id", type=AttrType.STRING),),
    )
    knows = Relationship(type="REFERRED", source="Person", target="Person")
    schema = GraphSchema(entities=(person,), relationships=(knows,))
    # Both directions are paths; `via` names types, not directions, so this stays ambiguous.
    with pytest.raises(grammar.SegmentError) as caught:
        grammar.compile_segment("segment Person where count Person >= 2", schema, now=NOW)
    assert caught.value.candidates == ("Person -REFERRED-> Person", "Person <-REFERRED- Person")


def _driving(
    condition: str, schema: GraphSchema = DEFAULT, audience: str = "Customer"
) -> int | None:
    text = f"segment {audience} where {condition}"
    return grammar.compile_segment(text, schema, now=NOW).forms.driving_clause


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # positive existence over index-backed, selective predicates: start from the records
        ("any Order (total > 500 and placedAt in last 90 days)", 0),
        ("gender = 'f' and any Order (channel = 'web')", 1),
        ("any Order (status in ('open', 'late')) and any Case (priority = 'high')", 0),
        # the narrower window wins a tie (30 days of cases against 90 days of orders)
        (
            "any Order (total > 500 and placedAt in last 90 days) "
            "and any Case (escalated is true and createdOn in last 30 days)",
            1,
        ),
        # several hops, `via`, a relationship attribute beside the indexed one
        ("any Product (category = 'Security')", 0),
        ("any EventRegistration via REGISTERED (registeredAt in last 30 days)", 0),
        ("any OrderLine (quantity = 2)", None),  # not indexed
        # not selective enough, or not index-backed: keep the audience scan
        ("any Order (total > 500)", None),
        ("any Order (placedAt in last 5 years)", None),  # a long window keeps most orders
        ("any Order (placedAt in last 12 months)", 0),
        ("any Order (channel != 'web')", None),
        ("any Case (escalated is true)", None),
        ("any Order", None),
        ("any Order (placedAt is empty)", None),
        # not positive existence: never
        ("no Order (channel = 'web')", None),
        ("all Order (channel = 'web')", None),
        ("count Order (channel = 'web') >= 1", None),
        ("sum Order.total (channel = 'web') > 10", None),
        ("not (any Order (channel = 'web'))", None),
        ("any Order (channel = 'web') or city = 'Paris'", None),
        ("Order.placedAt (channel = 'web') then Case.createdOn", None),
        # an index-backed condition on the profile as strong: the planner seeks that index
        ("customerId = 'c1' and any Order (channel = 'web')", None),
    ],
)
def test_which_clause_drives_the_members_query(condition: str, expected: int | None) -> None:
    assert _driving(condition) == expected


def test_set_operations_keep_the_audience_scan() -> None:
    text = "segment Customer (where any Order (channel = 'web')) intersect (where city = 'Paris')"
    assert grammar.compile_segment(text, DEFAULT, now=NOW).forms.driving_clause is None


def test_candidate_driven_forms() -> None:
    text = "segment Customer where gender = 'f' and any Order (channel = 'web') and in segment vip"
    compiled = grammar.compile_segment(text, DEFAULT, now=NOW)
    scan = grammar.compile_segment(text, DEFAULT, now=NOW, candidates=False)
    forms = compiled.forms
    assert compiled.cypher == (
        "OPTIONAL MATCH (s0:`_Segment` {`name`: $p2})\n"
        "WITH s0, s0.`activeVersion` AS v0\n"
        "MATCH (n0:`Customer`)-[r0:`PLACED`]->(n1:`Order`) WHERE n1.`channel` = $p1\n"
        "WITH DISTINCT n0, s0, v0\n"
        "WHERE n0.`gender` = $p0 AND EXISTS { MATCH (s0)-[r1:`_MEMBER`]->(n0) "
        "WHERE r1.`since` <= v0 AND (r1.`until` IS NULL OR r1.`until` > v0) }\n"
        "RETURN n0.`customerId` AS key"
    )
    assert forms.count.text.endswith(
        "WITH DISTINCT n0, s0, v0\n"
        "WHERE n0.`gender` = $p0 AND EXISTS { MATCH (s0)-[r1:`_MEMBER`]->(n0) "
        "WHERE r1.`since` <= v0 AND (r1.`until` IS NULL OR r1.`until` > v0) }\n"
        "RETURN count(n0) AS count"
    )
    # the same parameters; the keyed and clause forms are the scan's
    assert compiled.params == scan.params
    assert forms.members_in_keys == scan.forms.members_in_keys
    assert forms.clause_counts == scan.forms.clause_counts
    assert scan.forms.driving_clause is None
    assert scan.cypher.startswith(
        "OPTIONAL MATCH (s0:`_Segment` {`name`: $p2})\n"
        "WITH s0, s0.`activeVersion` AS v0\nMATCH (n0:`Customer`)\nWHERE ("
    )
