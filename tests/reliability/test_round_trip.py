"""Round trip and determinism: text -> AST -> text -> AST, JSON -> AST -> JSON, and compiling
the same segment twice, over grammar-generated segments of every scenario and over hypothesis
trees (hostile strings included)."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import grammar
from grammar import ast as a
from graph_schema import GraphSchema
from tests.grammar.schemas import CLUB, DEFAULT, NOW
from tests.grammar.strategies import hostile_text, segments
from tests.reliability.figures import record, scale
from tests.reliability.generated import valid_texts

TEST = "Round trip and determinism"


@dataclass
class Mismatches:
    n: int = 0
    found: dict[str, list[str]] = field(
        default_factory=lambda: {"text": [], "json": [], "compile": []}
    )

    def check_tree(self, tree: a.Segment, schema: GraphSchema, **options: object) -> None:
        self.n += 1
        text = grammar.format_segment(tree)
        again = grammar.parse(text)
        if again != tree or grammar.format_segment(again) != text:
            self.found["text"].append(text)
        data = json.loads(json.dumps(grammar.to_json(tree)))
        if grammar.parse(data) != tree or grammar.to_json(grammar.parse(data)) != data:
            self.found["json"].append(text)
        first = grammar.compile_segment(tree, schema, **options)  # type: ignore[arg-type]
        second = grammar.compile_segment(text, schema, **options)  # type: ignore[arg-type]
        if (first.forms, first.canonical, first.json) != (
            second.forms,
            second.canonical,
            second.json,
        ):
            self.found["compile"].append(text)

    def report(self, source: str) -> None:
        for kind, what in (
            ("text", "text -> AST -> text -> AST"),
            ("json", "JSON -> AST -> JSON"),
            ("compile", "compile twice (byte-identical Cypher and params)"),
        ):
            bad = self.found[kind]
            record(TEST, f"{what}, {source}", self.n, f"{len(bad)} mismatches", "0 mismatches",
                   not bad)  # fmt: skip
        assert not any(self.found.values()), {k: v[:3] for k, v in self.found.items()}


def test_generated_texts_round_trip() -> None:
    tally = Mismatches()
    for scenario, text in itertools.islice(valid_texts(seed=41), scale(800, 10_000)):
        tree = grammar.parse(text)
        tally.check_tree(tree, scenario.schema, now=scenario.clock.now, timezone=scenario.clock.tz)
    tally.report("generated texts")


def test_hypothesis_trees_round_trip() -> None:
    tally = Mismatches()
    trees = st.one_of(
        segments(DEFAULT).map(lambda t: (DEFAULT, t)),
        segments(CLUB).map(lambda t: (CLUB, t)),
        segments(DEFAULT, hostile_text).map(lambda t: (DEFAULT, t)),
    )

    @settings(max_examples=scale(50, 1_500), database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(trees)
    def run(case: tuple[GraphSchema, a.Segment]) -> None:
        schema, tree = case
        tally.check_tree(tree, schema, now=NOW)

    run()
    tally.report("hypothesis trees (hostile strings too)")
