"""Feature plans from any schema: what is derived, what is left out, and safe Cypher."""

from __future__ import annotations

import datetime as dt

import pytest

from graph_schema import default_schema, parse_schema
from server.features import plan_features
from server.features.cypher import feature_query, time_params

GYM = """
name: gym
entities:
  Member:
    key: memberId
    profile: true
    attributes:
      memberId: string
      age: integer
      vip: boolean
      email: {type: string, pii: true}
      joined: date
  Club:
    key: clubId
    attributes: {clubId: string, size: integer, opened: date}
  Visit:
    key: visitId
    attributes:
      visitId: string
      at: datetime
      minutes: float
      kind: {type: string, indexed: true}
      guest: boolean
relationships:
  BELONGS_TO: {from: Member, to: Club, cardinality: many_to_one}
  MADE: {from: Member, to: Visit, cardinality: one_to_many}
  HOSTED: {from: Club, to: Visit, cardinality: one_to_many}
"""


def names(profile: str = "Member", **kwargs: object) -> list[str]:
    schema = parse_schema(GYM) if profile == "Member" else default_schema()
    return [f.name for f in plan_features(schema, profile, **kwargs).features]  # type: ignore[arg-type]


def test_a_custom_schema_gets_attributes_to_one_entities_and_activities() -> None:
    found = names(categories={("Visit", "kind"): ("swim", "gym")}, windows=(7, 30))
    assert found[:6] == ["Member.age", "Member.vip", "Member.joined.days_ago", "Club.exists",
                         "Club.size", "Club.opened.days_ago"]  # fmt: skip
    visits = [n for n in found if n.startswith("MADE:Visit.")]
    assert visits == [f"MADE:Visit.{s}" for s in (
        "count_7d", "count_30d", "count_all", "days_since_last", "minutes.sum_365d",
        "minutes.avg", "guest.true_365d", "kind=swim.count_30d", "kind=swim.count_365d",
        "kind=gym.count_30d", "kind=gym.count_365d")]  # fmt: skip
    # the club's visits are a second path to Visit, so both carry their path in the name;
    # the club of a visit is not an activity (to-one from the visit)
    assert "BELONGS_TO:Club/HOSTED:Visit.count_7d" in found
    assert not [n for n in found if n.startswith("MADE:Visit/HOSTED")]


def test_personal_data_keys_and_excluded_attributes_are_left_out() -> None:
    found = names(exclude=["vip", "Club.size"])
    assert not [n for n in found if "email" in n or "memberId" in n or "vip" in n]
    assert "Club.size" not in found


def test_leads_never_read_other_leads_and_hops_bound_the_paths() -> None:
    two = names("Lead", exclude=["converted", "convertedAt"])
    assert "Lead.createdOn.days_ago" in two
    assert not [n for n in two if n.startswith("Lead.") and n != "Lead.createdOn.days_ago"]
    assert {n.split(".")[0] for n in two} >= {"Customer", "Order", "Case", "EmailEvent"}
    assert not [n for n in two if n.startswith("WebSession")]
    three = names("Lead", exclude=["converted", "convertedAt"], max_hops=3)
    assert "WebSession.count_30d" in three
    assert "Customer.birthDate.days_ago" not in three  # pii


def test_cypher_quotes_names_and_passes_values_as_parameters() -> None:
    hostile = "x` }) DETACH DELETE n //\n'\""
    plan = plan_features(parse_schema(GYM), "Member", categories={("Visit", "kind"): (hostile,)})
    cypher, params = feature_query(parse_schema(GYM), plan)
    assert hostile not in cypher
    assert hostile in params.values()
    assert "MATCH (p:`Member` {`memberId`: key})" in cypher
    assert "(p)-[:`BELONGS_TO`]->(:`Club`)-[:`HOSTED`]->(x:`Visit`)" in cypher


def test_time_parameters_need_an_aware_now() -> None:
    with pytest.raises(ValueError, match="timezone"):
        time_params(dt.datetime(2026, 1, 1), (7,))
    params = time_params(dt.datetime(2026, 1, 31, tzinfo=dt.UTC), (30,))
    assert params["since30d"] == dt.date(2026, 1, 1)
    assert "since365" in params  # sums of numbers always cover a year
