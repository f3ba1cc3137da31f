"""`grammar` imports with no server-side dependency available (STYLE.md: one direction of
dependency); checked in a clean interpreter where importing them fails."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

BLOCKED = ["neo4j", "strawberry", "starlette", "redis", "arq", "uvicorn", "sklearn", "server"]

SCRIPT = textwrap.dedent(
    """
    import importlib.abc, sys

    BLOCKED = set(sys.argv[1].split(","))

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"blocked: {name}")
            return None

    sys.meta_path.insert(0, Block())
    import importlib, pkgutil
    import grammar
    for module in pkgutil.walk_packages(grammar.__path__, "grammar."):
        importlib.import_module(module.name)
    """
)

USE = textwrap.dedent(
    """
    import datetime as dt
    from graph_schema import default_schema
    compiled = grammar.compile_segment(
        "segment Customer where any Order (total > 5)", default_schema(),
        now=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    assert compiled.cypher.startswith("MATCH")
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not loaded, loaded
    try:
        import neo4j  # noqa: F401
    except ImportError:
        print("ok")
    """
)


def test_grammar_imports_without_server_dependencies() -> None:
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT + USE, ",".join(BLOCKED)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
