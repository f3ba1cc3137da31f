"""Demo activity for one chunk of customers: orders, cases, web, email, events and leads.

Latent traits drive everything: `value` sets order frequency and size, `engagement` sets email
opens and clicks, web sessions and event attendance, and lead conversion depends on engagement
and on the realised clicks, sessions and attendance, so lead scoring has real signal.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import numpy as np

from graph_schema import demo_vocab as v
from graph_schema.demo_common import (
    Clock,
    Column,
    Counters,
    Floats,
    Ints,
    blank,
    booleans,
    ids,
    money,
    owner_index,
    pick,
    sigmoid,
)
from graph_schema.demo_people import Customers, World

Rows = tuple[str, list[Column]]  # (file name, columns)


def activity(
    rng: np.random.Generator, c: Customers, world: World, clock: Clock, counters: Counters
) -> Iterator[Rows]:
    yield from orders(rng, c, world, clock, counters)
    yield cases(rng, c, clock, counters)
    sessions = yield from web(rng, c, clock, counters)
    clicks = yield from emails(rng, c, clock, counters)
    attended = yield from registrations(rng, c, clock, counters)
    yield leads(rng, c, clock, counters, clicks, sessions, attended)


def _owned(c: Customers, owner: Ints) -> Column:
    return [c.ids[o] for o in owner.tolist()]


def _recent(rng: np.random.Generator, c: Customers, owner: Ints, horizon: float) -> Floats:
    """Days ago, uniform over the last `horizon` days of the owner's tenure."""
    return rng.random(len(owner)) * np.minimum(c.tenure[owner], horizon)


def _seasonal(rng: np.random.Generator, clock: Clock, low: Floats, span: Floats) -> Floats:
    """Days ago in [low, low + span), denser before the holidays and Valentine's Day."""
    days = low + rng.random(len(low)) * span
    todo = np.arange(len(days))
    while len(todo):
        doy = clock.day_of_year(days[todo])
        holidays, valentine = np.exp(-(((doy - 335) / 18) ** 2)), np.exp(-(((doy - 42) / 5) ** 2))
        weight = 1 + 0.8 * holidays + 0.5 * valentine
        todo = todo[rng.random(len(todo)) * 1.8 > weight]
        days[todo] = low[todo] + rng.random(len(todo)) * span[todo]
    return days


def orders(
    rng: np.random.Generator, c: Customers, world: World, clock: Clock, counters: Counters
) -> Iterator[Rows]:
    churned = np.where(c.lapse > 180, 0.5, 1.0)
    owner = owner_index(rng.poisson(10 * np.exp(0.6 * c.value - 0.18) * churned))
    m = len(owner)
    history = np.clip(c.tenure[owner] - c.lapse[owner], 1, 730)  # about two years of orders
    days = _seasonal(rng, clock, c.lapse[owner], history)
    total = rng.lognormal(3.9 + 0.35 * c.value[owner], 0.75)
    status = np.where(days < 5, "pending", pick(rng, ("completed", "returned", "cancelled"), m,
                      (0.93, 0.04, 0.03)))  # fmt: skip
    order_ids = ids("O", counters.take("order", m), 9)
    yield "orders.csv", [
        order_ids, _owned(c, owner), money(total), clock.datetimes(days),
        pick(rng, v.CHANNELS, m, v.CHANNEL_WEIGHTS), list(status.tolist()),
    ]  # fmt: skip
    line_owner = owner_index(1 + rng.poisson(0.5, m))
    n = len(line_owner)
    favourite = c.category[owner[line_owner]]
    category = np.where(rng.random(n) < 0.5, favourite, rng.integers(len(v.CATEGORIES), size=n))
    size = np.maximum(world.category_size[category], 1)
    slot = world.category_start[category] + (rng.random(n) * size).astype(np.int64)
    product = world.by_category[slot]
    quantity = 1 + rng.poisson(0.3, n)
    share = rng.exponential(1.0, n)
    share /= np.bincount(line_owner, share, minlength=m)[line_owner]
    yield "order_lines.csv", [
        ids("OL", counters.take("line", n), 10), [order_ids[o] for o in line_owner.tolist()],
        [str(5_000 + p) for p in product.tolist()], list(quantity.tolist()),
        money(total[line_owner] * share / quantity),
    ]  # fmt: skip


def cases(rng: np.random.Generator, c: Customers, clock: Clock, counters: Counters) -> Rows:
    owner = owner_index(rng.poisson(1.0, len(c.ids)))
    m = len(owner)
    days = _recent(rng, c, owner, 365)
    unhappy = sigmoid((50 - c.satisfaction[owner]) / 8)
    escalated = rng.random(m) < 0.03 + 0.2 * unhappy
    priority = np.where(escalated, pick(rng, ("high", "critical"), m),
                        pick(rng, v.PRIORITIES[:3], m, (0.3, 0.5, 0.2)))  # fmt: skip
    is_open = (days < 14) & (rng.random(m) < 0.6)
    score = np.clip(np.round(c.satisfaction[owner] + rng.normal(0, 15, m) - 25 * escalated), 0, 100)
    return "cases.csv", [
        ids("K", counters.take("case", m), 8), _owned(c, owner), booleans(escalated),
        list(priority.tolist()), clock.datetimes(days),
        blank([int(s) for s in score.tolist()], is_open),
        ["open" if o else "closed" for o in is_open.tolist()],
    ]  # fmt: skip


def web(
    rng: np.random.Generator, c: Customers, clock: Clock, counters: Counters
) -> Generator[Rows, None, Ints]:
    """Online accounts, sessions and page views; returns sessions per customer."""
    n = len(c.ids)
    owner = np.flatnonzero(rng.random(n) < sigmoid(0.6 + 1.2 * c.engagement))
    account_ids = ids("W", counters.take("online", len(owner)))
    yield "online_accounts.csv", [
        account_ids, _owned(c, owner), [f"{c.ids[o].lower()}.web" for o in owner.tolist()],
        clock.dates(c.tenure[owner] * rng.uniform(0.3, 1.0, len(owner))),
    ]  # fmt: skip
    per_account = rng.poisson(3.0 * np.exp(0.6 * c.engagement[owner] - 0.18))
    session_owner = owner_index(per_account)
    s = len(session_owner)
    start = np.minimum(rng.exponential(60, s), c.tenure[owner[session_owner]])
    session_ids = counters.take("session", s)
    yield "web_sessions.csv", [
        list(session_ids), [account_ids[o] for o in session_owner.tolist()],
        clock.datetimes(start), pick(rng, v.DEVICES, s, (0.5, 0.4, 0.1)),
    ]  # fmt: skip
    views = 1 + rng.poisson(1.5 * np.exp(0.3 * c.engagement[owner[session_owner]]))
    view_owner = owner_index(views)
    step = np.arange(len(view_owner)) - np.repeat(np.cumsum(views) - views, views)
    at = np.maximum(start[view_owner] - step * 45 / 86_400, 0)
    urls = [*v.PAGES, *(f"/products/{k.lower().replace(' ', '-')}" for k in v.CATEGORIES),
            *(f"/landing/{k}" for k in v.CAMPAIGNS)]  # fmt: skip
    yield "page_views.csv", [
        ids("V", counters.take("view", len(view_owner)), 10),
        [session_ids[o] for o in view_owner.tolist()], pick(rng, tuple(urls), len(view_owner)),
        clock.datetimes(at),
    ]  # fmt: skip
    return np.bincount(owner[session_owner], minlength=n).astype(np.int64)


def emails(
    rng: np.random.Generator, c: Customers, clock: Clock, counters: Counters
) -> Generator[Rows, None, Ints]:
    """Sent, open and click events (never to do-not-contact customers); returns clicks each."""
    n = len(c.ids)
    owner = owner_index(np.where(c.do_not_contact, 0, rng.poisson(7, n)))
    m = len(owner)
    sent = _recent(rng, c, owner, 365)
    theme = pick(rng, v.CAMPAIGNS, m)
    campaign = [f"{t}-{d[:7]}" for t, d in zip(theme, clock.dates(sent), strict=True)]
    opened = rng.random(m) < sigmoid(-0.8 + 1.3 * c.engagement[owner])
    clicked = opened & (rng.random(m) < sigmoid(-1.2 + 1.3 * c.engagement[owner]))
    open_at = np.maximum(sent - rng.uniform(0.01, 2, m), 0)
    click_at = np.maximum(open_at - rng.uniform(0.0005, 0.02, m), 0)
    everyone = np.ones(m, bool)
    kinds = ((everyone, "sent", sent), (opened, "open", open_at), (clicked, "click", click_at))
    rows: list[Column] = [[], [], [], [], [], []]
    for mask, kind, days in kinds:
        picked = np.flatnonzero(mask)
        urls = [f"/landing/{theme[i]}" if kind == "click" else "" for i in picked.tolist()]
        for col, values in zip(rows[1:], (_owned(c, owner[picked]), [kind] * len(picked),
                               [campaign[i] for i in picked.tolist()], urls,
                               clock.datetimes(days[picked])), strict=True):  # fmt: skip
            col.extend(values)
    rows[0] = ids("E", counters.take("email", len(rows[1])), 10)
    yield "email_events.csv", rows
    return np.bincount(owner[clicked], minlength=n).astype(np.int64)


def registrations(
    rng: np.random.Generator, c: Customers, clock: Clock, counters: Counters
) -> Generator[Rows, None, Ints]:
    n = len(c.ids)
    owner = owner_index(rng.poisson(0.5 * np.exp(0.6 * c.engagement - 0.18)))
    m = len(owner)
    days = _recent(rng, c, owner, 365)
    attended = rng.random(m) < sigmoid(0.3 + 1.2 * c.engagement[owner])
    event = [f"{e}-{d[:4]}" for e, d in zip(pick(rng, v.EVENTS, m), clock.dates(days), strict=True)]
    yield "event_registrations.csv", [
        ids("R", counters.take("registration", m), 8), _owned(c, owner), event,
        clock.datetimes(days), booleans(attended),
    ]  # fmt: skip
    return np.bincount(owner[attended], minlength=n).astype(np.int64)


def leads(
    rng: np.random.Generator, c: Customers, clock: Clock, counters: Counters,
    clicks: Ints, sessions: Ints, attended: Ints,
) -> Rows:  # fmt: skip
    owner = np.flatnonzero(rng.random(len(c.ids)) < 0.4)
    m = len(owner)
    created = rng.uniform(0, 365, m)
    behaviour = (
        0.5 * np.minimum(clicks[owner], 6)
        + 0.9 * np.minimum(attended[owner], 2)
        + 0.12 * np.minimum(sessions[owner], 10)
    )
    logit = -2.4 + 1.8 * c.engagement[owner] + behaviour
    converted = rng.random(m) < sigmoid(logit)
    converted_at = np.maximum(created - rng.uniform(1, 60, m), 0)
    status = np.where(converted, "converted", np.where(created < 45, "open", "lost"))
    source = pick(rng, v.LEAD_SOURCES, m, (0.35, 0.25, 0.15, 0.15, 0.1))
    return "leads.csv", [
        ids("L", counters.take("lead", m), 8), _owned(c, owner), source, list(status.tolist()),
        clock.dates(created), blank(clock.dates(converted_at), ~converted), booleans(converted),
    ]  # fmt: skip
