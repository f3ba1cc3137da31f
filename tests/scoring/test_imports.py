"""`scoring` is a plain library (STYLE.md): it imports and trains with neither Neo4j, the
server, the segment language nor the graph schema available, in a clean interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

BLOCKED = ["neo4j", "strawberry", "starlette", "redis", "arq", "server", "grammar",
           "graph_schema"]  # fmt: skip

SCRIPT = textwrap.dedent(
    """
    import importlib, importlib.abc, pkgutil, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in set(sys.argv[1].split(",")):
                raise ImportError(f"blocked: {name}")
            return None

    sys.meta_path.insert(0, Block())
    import scoring
    for module in pkgutil.walk_packages(scoring.__path__, "scoring."):
        importlib.import_module(module.name)
    from tests.scoring.synthetic import synthetic
    matrix, outcome = synthetic(rows=120)
    model = scoring.train_model(matrix, outcome).model
    assert scoring.explain_rows(model, matrix.rows([0]))
    print("ok")
    """
)


def test_scoring_needs_no_graph_server_or_language() -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, ",".join(BLOCKED)],
        cwd=root, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
