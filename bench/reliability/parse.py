"""Parse time of ~1 KB segments: `parse_segment` (text -> AST, built while lark's LALR parser
reduces; grammar/inline.py) against lark alone building its parse tree with positions from the
same grammar (what parsing cost before the AST was built inline, without the AST), alternated
in one run on the same texts.

    .venv/bin/python -m bench.reliability.parse [--segments 500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections.abc import Callable
from functools import partial

from lark import Lark

import grammar.parser
from grammar.parser import parse_segment
from tests.reliability.generated import generators, kilobyte_text


def percentiles(timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    return ordered[len(ordered) // 2], ordered[min(int(len(ordered) * 0.99), len(ordered) - 1)]


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def tree_parser() -> Lark:
    return Lark.open(
        "segment.lark", rel_to=grammar.parser.__file__, parser="lalr", lexer="contextual",
        propagate_positions=True, strict=True,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--segments", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    _, generator = next(generators(seed=3))
    generator.rng = random.Random(3)
    texts = [kilobyte_text(generator) for _ in range(args.segments)]
    lark_tree = tree_parser()
    for text in texts:  # warm both
        parse_segment(text)
        lark_tree.parse(text)
    results: dict[str, list[float]] = {"parse_segment (AST)": [], "lark tree only": []}
    gc.disable()  # collections land on random inputs: measure the code, not the collector
    try:
        for _ in range(args.rounds):
            results["parse_segment (AST)"] += [timed(partial(parse_segment, t)) for t in texts]
            results["lark tree only"] += [timed(partial(lark_tree.parse, t)) for t in texts]
    finally:
        gc.enable()
    size = sum(map(len, texts)) // len(texts)
    print(f"{len(texts)} segments of ~{size} characters, {args.rounds} rounds")
    for name, timings in results.items():
        p50, p99 = percentiles(timings)
        print(f"{name:22} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
    ours, tree = (percentiles(r) for r in results.values())
    print(f"text -> AST / lark's tree alone: x{ours[0] / tree[0]:.2f} (p50), "
          f"x{ours[1] / tree[1]:.2f} (p99)")  # fmt: skip


if __name__ == "__main__":
    main()
