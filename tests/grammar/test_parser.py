"""Parser tables: text -> AST (spans are not compared)."""

from __future__ import annotations

import datetime as dt

import pytest

from grammar import ast as a
from grammar.parser import parse_segment


def name(text: str) -> a.Identifier:
    return a.Identifier(name=text)


def attr(text: str, qualifier: str | None = None) -> a.Dotted:
    return a.Dotted(name=name(text), qualifier=name(qualifier) if qualifier else None)


def num(value: int | float) -> a.NumberLiteral:
    return a.NumberLiteral(value=value)


def s(value: str) -> a.StringLiteral:
    return a.StringLiteral(value=value)


def cmp(field: str, op: a.CompareOp, value: a.Literal) -> a.Comparison:
    return a.Comparison(attribute=attr(field), op=op, value=value)


EQ, GT, LT, GE = a.CompareOp.EQ, a.CompareOp.GT, a.CompareOp.LT, a.CompareOp.GE
DAY = a.TimeUnit.DAY


def where(text: str) -> a.Condition:
    body = parse_segment(f"segment Customer where {text}").body
    assert isinstance(body, a.Group)
    return body.condition


CONDITIONS: list[tuple[str, a.Condition]] = [
    ('city = "New York"', cmp("city", EQ, s("New York"))),
    ("total > -12.5", cmp("total", GT, num(-12.5))),
    ("n != 3", cmp("n", a.CompareOp.NE, num(3))),
    ("x <= 1 and y >= 2", a.And(items=(cmp("x", a.CompareOp.LE, num(1)), cmp("y", GE, num(2))))),
    (
        "a = 1 or b = 2 and c = 3",
        a.Or(
            items=(cmp("a", EQ, num(1)), a.And(items=(cmp("b", EQ, num(2)), cmp("c", EQ, num(3)))))
        ),
    ),
    ("not (a = 1 or b = 2)", a.Not(item=a.Or(items=(cmp("a", EQ, num(1)), cmp("b", EQ, num(2)))))),
    (
        "x between 1 and 5 and y = 1",
        a.And(
            items=(a.Between(attribute=attr("x"), low=num(1), high=num(5)), cmp("y", EQ, num(1)))
        ),
    ),
    ('c in ("FR", "DE")', a.InList(attribute=attr("c"), values=(s("FR"), s("DE")))),
    ("c not in (1)", a.InList(attribute=attr("c"), values=(num(1),), negated=True)),
    ('u contains "/p"', a.TextMatch(attribute=attr("u"), op=a.TextOp.CONTAINS, value=s("/p"))),
    (
        'u STARTS WITH "a" Case Sensitive',
        a.TextMatch(
            attribute=attr("u"), op=a.TextOp.STARTS_WITH, value=s("a"), case_sensitive=True
        ),
    ),
    ('u ends with "z"', a.TextMatch(attribute=attr("u"), op=a.TextOp.ENDS_WITH, value=s("z"))),
    ('u matches "a.*"', a.RegexMatch(attribute=attr("u"), pattern=s("a.*"))),
    ("u is empty", a.IsEmpty(attribute=attr("u"))),
    ("u is not empty", a.IsEmpty(attribute=attr("u"), negated=True)),
    ("b is true", a.IsBoolean(attribute=attr("b"), value=True)),
    ("b = false", cmp("b", EQ, a.BooleanLiteral(value=False))),
    ("d = 2024-02-29", cmp("d", EQ, a.DateLiteral(value=dt.date(2024, 2, 29)))),
    (
        "d > 2024-02-29T10:30",
        cmp("d", GT, a.DateTimeLiteral(value=dt.datetime(2024, 2, 29, 10, 30))),
    ),
    ("d before 3 days ago", cmp("d", LT, a.RelativeLiteral(amount=3, unit=DAY, future=False))),
    (
        "d after 1 week from now",
        cmp("d", GT, a.RelativeLiteral(amount=1, unit=a.TimeUnit.WEEK, future=True)),
    ),
    (
        "d in last 90 days",
        a.InWindow(
            attribute=attr("d"),
            window=a.RollingWindow(relation=a.Relation.LAST, amount=90, unit=DAY),
        ),
    ),
    (
        "d in the next 2 Months",
        a.InWindow(
            attribute=attr("d"),
            window=a.RollingWindow(relation=a.Relation.NEXT, amount=2, unit=a.TimeUnit.MONTH),
        ),
    ),
    (
        "d in last quarter",
        a.InWindow(
            attribute=attr("d"),
            window=a.CalendarWindow(relation=a.Relation.LAST, unit=a.TimeUnit.QUARTER),
        ),
    ),
    (
        "d in this year",
        a.InWindow(
            attribute=attr("d"),
            window=a.CalendarWindow(relation=a.Relation.THIS, unit=a.TimeUnit.YEAR),
        ),
    ),
    ("d is yesterday", a.InWindow(attribute=attr("d"), window=a.DayWindow(day=a.Day.YESTERDAY))),
    (
        "birthDate anniversary in next 7 days",
        a.Anniversary(
            attribute=attr("birthDate"),
            window=a.RollingWindow(relation=a.Relation.NEXT, amount=7, unit=DAY),
        ),
    ),
    (
        "birthDate anniversary is today",
        a.Anniversary(attribute=attr("birthDate"), window=a.DayWindow(day=a.Day.TODAY)),
    ),
    ("any Order", a.Related(quantifier=a.Quantifier.ANY, entity=name("Order"))),
    (
        "no Order (total > 5)",
        a.Related(
            quantifier=a.Quantifier.NO, entity=name("Order"), condition=cmp("total", GT, num(5))
        ),
    ),
    (
        "all Order via PLACED, `Order` (total > 5)",
        a.Related(
            quantifier=a.Quantifier.ALL,
            entity=name("Order"),
            via=(name("PLACED"), name("Order")),
            condition=cmp("total", GT, num(5)),
        ),
    ),
    (
        "any Account (WORKS_AT.isPrimary is true)",
        a.Related(
            quantifier=a.Quantifier.ANY,
            entity=name("Account"),
            condition=a.IsBoolean(attribute=attr("isPrimary", "WORKS_AT"), value=True),
        ),
    ),
    (
        "count EmailEvent >= 3",
        a.Aggregate(
            func=a.AggFunc.COUNT, entity=name("EmailEvent"), attribute=None, op=GE, value=num(3)
        ),
    ),
    (
        "sum Order.total (x = 1) > 1000",
        a.Aggregate(
            func=a.AggFunc.SUM,
            entity=name("Order"),
            attribute=name("total"),
            condition=cmp("x", EQ, num(1)),
            op=GT,
            value=num(1000),
        ),
    ),
    (
        "max Order.placedAt via PLACED < 2024-01-01",
        a.Aggregate(
            func=a.AggFunc.MAX,
            entity=name("Order"),
            attribute=name("placedAt"),
            via=(name("PLACED"),),
            op=LT,
            value=a.DateLiteral(value=dt.date(2024, 1, 1)),
        ),
    ),
    (
        "min Order.placedAt after 2 days ago",
        a.Aggregate(
            func=a.AggFunc.MIN,
            entity=name("Order"),
            attribute=name("placedAt"),
            op=GT,
            value=a.RelativeLiteral(amount=2, unit=DAY, future=False),
        ),
    ),
    ("in segment vip", a.InSegment(name=name("vip"))),
    ("not in segment `big spenders`", a.Not(item=a.InSegment(name=name("big spenders")))),
    (
        'PageView (url contains "/pricing") then no Order within 7 days',
        a.Sequence(
            first=a.Event(
                entity=name("PageView"),
                condition=a.TextMatch(
                    attribute=attr("url"), op=a.TextOp.CONTAINS, value=s("/pricing")
                ),
            ),
            quantifier=a.Quantifier.NO,
            second=a.Event(entity=name("Order")),
            within=a.Within(amount=7, unit=DAY),
        ),
    ),
    (
        "PageView.at then Order.placedAt via PLACED",
        a.Sequence(
            first=a.Event(entity=name("PageView"), time=name("at")),
            quantifier=a.Quantifier.ANY,
            second=a.Event(entity=name("Order"), time=name("placedAt"), via=(name("PLACED"),)),
        ),
    ),
    ("`count` = 1 and `a``b` = 2", a.And(items=(cmp("count", EQ, num(1)), cmp("a`b", EQ, num(2))))),
    ("type = 1", cmp("type", EQ, num(1))),  # keywords elsewhere are names here
    ('x = "tab\\t quote\\" nl\\n u\\u00e9 bs\\\\"', cmp("x", EQ, s('tab\t quote" nl\n ué bs\\'))),
    ("x = 'single \\' quoted'", cmp("x", EQ, s("single ' quoted"))),
]


@pytest.mark.parametrize(("text", "expected"), CONDITIONS, ids=[c[0][:40] for c in CONDITIONS])
def test_condition_table(text: str, expected: a.Condition) -> None:
    assert where(text) == expected


def test_segment_head_groups_and_precedence() -> None:
    tree = parse_segment(
        "segment Customer timezone 'Europe/Paris'\n"
        "where a = 1 union where b = 2 intersect where c = 3 except (where d = 4 union where e = 5)"
    )
    group = {
        k: a.Group(condition=cmp(k, EQ, num(v))) for k, v in zip("abcde", range(1, 6), strict=True)
    }
    union = a.SetOperation(op=a.SetOp.UNION, left=group["a"], right=a.SetOperation(
        op=a.SetOp.INTERSECT, left=group["b"], right=group["c"]))  # fmt: skip
    inner = a.SetOperation(op=a.SetOp.UNION, left=group["d"], right=group["e"])
    expected = a.Segment(
        audience=name("Customer"),
        timezone=s("Europe/Paris"),
        body=a.SetOperation(op=a.SetOp.EXCEPT, left=union, right=inner),
    )
    assert tree == expected


def test_comments_case_and_layout_do_not_matter() -> None:
    one = parse_segment("segment Customer where a = 1 and any Order (total > 5)")
    other = parse_segment(
        "# leading comment\nSEGMENT Customer # audience\n  WHERE a = 1 # first\n"
        "    AND Any Order (\n      total > 5  # same record\n    )\n"
    )
    assert one == other


def test_spans_point_into_the_text() -> None:
    text = 'segment Customer\nwhere city = "Paris"'
    tree = parse_segment(text)
    group = tree.body
    assert isinstance(group, a.Group)
    assert isinstance(group.condition, a.Comparison)
    span = group.condition.value.span
    assert span is not None
    assert (span.line, span.column, text[span.offset : span.end]) == (2, 14, '"Paris"')


def test_every_rule_the_parser_reduces_has_a_builder_method() -> None:
    """The AST is built as rules reduce (grammar/inline.py): a rule without a method would hand
    a lark Tree into the AST. Rules inlined with one child (`?rule`) reduce to that child, and
    lark's own repetition rules (`__condition_star_0`) are inlined into their parent."""
    from grammar.literals import rule_methods
    from grammar.parser import _parser
    from grammar.transform import _Builder

    methods = rule_methods(_Builder)
    missing = {
        rule.alias or rule.origin.name
        for rule in _parser().rules
        if (rule.alias or rule.origin.name) not in methods
        and not rule.origin.name.startswith("_")
        and not (rule.options.expand1 and len(rule.expansion) == 1)
    }
    assert not missing
