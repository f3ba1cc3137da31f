"""Benchmark segments: the reference texts' examples and representative shapes, each with a
hand-written Cypher query that a Neo4j expert would write for the same answer.

Hand-written queries take their window bounds from `bounds(now)`, computed here independently of
the compiler (UTC, half-open windows as docs/query-language.md defines them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    segment: str
    cypher: str  # hand-written; reads $now-derived parameters from `bounds`


def bounds(now: dt.datetime) -> dict[str, Any]:
    today = now.date()
    last_quarter_start_month = ((now.month - 1) // 3) * 3 + 1 - 3
    lq_year = now.year + (last_quarter_start_month - 1) // 12
    lq_month = (last_quarter_start_month - 1) % 12 + 1
    lq_start = dt.datetime(lq_year, lq_month, 1, tzinfo=dt.UTC)
    this_quarter_start = dt.datetime(now.year, ((now.month - 1) // 3) * 3 + 1, 1, tzinfo=dt.UTC)
    return {
        "now": now,
        "d90": now - dt.timedelta(days=90),
        "d30": now - dt.timedelta(days=30),
        "d180": now - dt.timedelta(days=180),
        "m12": now.replace(year=now.year - 1),
        "lq_start": lq_start,
        "lq_end": this_quarter_start,
        "today": today,
        "in60": today + dt.timedelta(days=60),
    }


CASES: tuple[Case, ...] = (
    Case(
        "headline: order > 500 in 90d and escalated case in 30d",
        "segment Customer where any Order (total > 500 and placedAt in last 90 days) "
        "and any Case (escalated is true and createdOn in last 30 days)",
        "MATCH (c:Customer) WHERE EXISTS { MATCH (c)-[:PLACED]->(o:Order) "
        "WHERE o.total > 500 AND o.placedAt >= $d90 AND o.placedAt < $now } "
        "AND EXISTS { MATCH (c)-[:RAISED]->(k:Case) WHERE k.escalated = true "
        "AND k.createdOn >= $d30 AND k.createdOn < $now } RETURN c.customerId AS key",
    ),
    Case(
        "attributes: New York newsletter readers",
        'segment Customer where city = "New York" and newsletter is true',
        "MATCH (c:Customer) WHERE c.city = 'New York' AND c.newsletter = true "
        "RETURN c.customerId AS key",
    ),
    Case(
        "security products except 5567, satisfaction < 60",
        'segment Customer where any Product (category = "Security" and productId != "5567") '
        "and satisfaction < 60",
        "MATCH (c:Customer) WHERE c.satisfaction < 60 AND EXISTS { "
        "MATCH (c)-[:PLACED]->(:Order)-[:HAS_LINE]->(:OrderLine)-[:OF_PRODUCT]->(p:Product) "
        "WHERE p.category = 'Security' AND p.productId <> '5567' } RETURN c.customerId AS key",
    ),
    Case(
        "clickstream sessions other than 1 via the online account",
        "segment Customer where any WebSession via OnlineAccount (sessionId != 1)",
        "MATCH (c:Customer) WHERE EXISTS { MATCH (c)-[:HAS_ONLINE_ACCOUNT]->(:OnlineAccount)"
        "-[:STARTED]->(w:WebSession) WHERE w.sessionId <> 1 } RETURN c.customerId AS key",
    ),
    Case(
        "high balance except do-not-contact",
        "segment Customer where creditBalance > 10000 except where doNotContact is true",
        "MATCH (c:Customer) WHERE c.creditBalance > 10000 "
        "AND (c.doNotContact IS NULL OR c.doNotContact <> true) RETURN c.customerId AS key",
    ),
    Case(
        "primary contact of accounts with budget > 1M",
        "segment Contact where any Account (budget > 1000000 and WORKS_AT.isPrimary is true)",
        "MATCH (k:Contact) WHERE EXISTS { MATCH (k)-[w:WORKS_AT]->(a:Account) "
        "WHERE a.budget > 1000000 AND w.isPrimary = true } RETURN k.contactId AS key",
    ),
    Case(
        "accounts nearing contract renewal (60 days)",
        "segment Account where contractRenewalDate in next 60 days",
        "MATCH (a:Account) WHERE a.contractRenewalDate >= $today "
        "AND a.contractRenewalDate <= $in60 RETURN a.accountId AS key",
    ),
    Case(
        "high value, no engagement last quarter",
        "segment Customer where sum Order.total (placedAt in last 12 months) > 10000 "
        'and no EmailEvent (type in ("open", "click") and at in last quarter)',
        "MATCH (c:Customer) WHERE NOT EXISTS { MATCH (c)-[:RECEIVED]->(e:EmailEvent) "
        "WHERE e.type IN ['open', 'click'] AND e.at >= $lq_start AND e.at < $lq_end } "
        "CALL (c) { MATCH (c)-[:PLACED]->(o:Order) WHERE o.placedAt >= $m12 "
        "AND o.placedAt < $now RETURN sum(o.total) AS spent } "
        "WITH c, spent WHERE spent > 10000 RETURN c.customerId AS key",
    ),
    Case(
        "at least 3 email opens in 30 days",
        'segment Customer where count EmailEvent (type = "open" and at in last 30 days) >= 3',
        "MATCH (c:Customer) WHERE COUNT { MATCH (c)-[:RECEIVED]->(e:EmailEvent) "
        "WHERE e.type = 'open' AND e.at >= $d30 AND e.at < $now } >= 3 "
        "RETURN c.customerId AS key",
    ),
    Case(
        "lapsed: ordered before, none in 180 days",
        "segment Customer where any Order and no Order (placedAt in last 180 days)",
        "MATCH (c:Customer) WHERE EXISTS { (c)-[:PLACED]->(:Order) } "
        "AND NOT EXISTS { MATCH (c)-[:PLACED]->(o:Order) WHERE o.placedAt >= $d180 "
        "AND o.placedAt < $now } RETURN c.customerId AS key",
    ),
    Case(
        "gold or platinum in the US with a web order",
        'segment Customer where loyaltyTier in ("gold", "platinum") and country = "US" '
        'and any Order (channel = "web")',
        "MATCH (c:Customer) WHERE c.loyaltyTier IN ['gold', 'platinum'] AND c.country = 'US' "
        "AND EXISTS { MATCH (c)-[:PLACED]->(o:Order) WHERE o.channel = 'web' } "
        "RETURN c.customerId AS key",
    ),
)
