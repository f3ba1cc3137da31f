"""Parse time of ~1 KB segments: `parse_segment` (lark + AST) and its AST stage with lark's own
Transformer dispatch against ours (`LiteralBuilder._call_userfunc`), alternated in one run.

    .venv/bin/python -m bench.reliability.parse [--segments 500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections.abc import Callable
from functools import partial

from lark import Transformer

from grammar.literals import LiteralBuilder
from grammar.parser import _parse_tree, parse_segment
from grammar.transform import build_ast
from tests.reliability.generated import generators, kilobyte_text


def percentiles(timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    return ordered[len(ordered) // 2], ordered[min(int(len(ordered) * 0.99), len(ordered) - 1)]


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--segments", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    _, generator = next(generators(seed=3))
    generator.rng = random.Random(3)
    texts = [kilobyte_text(generator) for _ in range(args.segments)]
    trees = [(_parse_tree(t), t) for t in texts]
    ours = LiteralBuilder._call_userfunc
    lark_dispatch = Transformer._call_userfunc
    results: dict[str, list[float]] = {"parse_segment": [], "AST, lark dispatch": [],
                                       "AST, ours": []}  # fmt: skip
    gc.disable()  # collections land on random inputs: measure the code, not the collector
    try:
        for _ in range(args.rounds):
            results["parse_segment"] += [timed(partial(parse_segment, t)) for t in texts]
            LiteralBuilder._call_userfunc = lark_dispatch  # type: ignore[method-assign,assignment]
            results["AST, lark dispatch"] += [timed(partial(build_ast, *x)) for x in trees]
            LiteralBuilder._call_userfunc = ours  # type: ignore[method-assign]
            results["AST, ours"] += [timed(partial(build_ast, *x)) for x in trees]
    finally:
        LiteralBuilder._call_userfunc = ours  # type: ignore[method-assign]
        gc.enable()
    size = sum(map(len, texts)) // len(texts)
    print(f"{len(texts)} segments of ~{size} characters, {args.rounds} rounds")
    for name, timings in results.items():
        p50, p99 = percentiles(timings)
        print(f"{name:22} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
    lark50 = percentiles(results["AST, lark dispatch"])[0]
    ours50 = percentiles(results["AST, ours"])[0]
    print(f"AST stage: ours takes {ours50 / lark50:.2f}x lark's dispatch (p50)")


if __name__ == "__main__":
    main()
