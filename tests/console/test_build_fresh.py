"""The committed console build matches its sources: `npm run build` (in console/) stamps a hash
of the sources into server/console/static/source-hash.txt; this recomputes it (same algorithm as
console/scripts/stamp.mjs) so a source change without a rebuild fails here, not in a browser."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from server.console import STATIC_DIR

CONSOLE = Path(__file__).resolve().parents[2] / "console"
TOP = ("index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts")


def source_hash(root: Path) -> str:
    files = [root / name for name in TOP]
    files += [p for p in (root / "src").rglob("*") if p.is_file()]
    digest = hashlib.sha256()
    for rel in sorted(p.relative_to(root).as_posix() for p in files):
        digest.update(rel.encode() + b"\n")
        digest.update((root / rel).read_bytes())
        digest.update(b"\n")
    return digest.hexdigest()


def test_committed_build_is_fresh() -> None:
    stamped = (STATIC_DIR / "source-hash.txt").read_text().strip()
    assert stamped == source_hash(CONSOLE), (
        "server/console/static is stale: run `npm ci && npm run build` in console/ and commit it"
    )


def test_index_references_only_shipped_assets() -> None:
    """Every script and stylesheet the page loads is in the build, under /console/."""
    index = (STATIC_DIR / "index.html").read_text()
    refs = re.findall(r'(?:src|href)="(/console/[^"]+)"', index)
    assert any(r.endswith(".js") for r in refs)
    for ref in refs:
        assert (STATIC_DIR / ref.removeprefix("/console/")).is_file(), ref
    assert "://" not in index  # no CDN at run time


def test_hash_changes_with_a_source(tmp_path: Path) -> None:
    """The check can fail: one changed byte in src/ changes the hash."""
    root = tmp_path / "console"
    (root / "src").mkdir(parents=True)
    for name in TOP:
        (root / name).write_text(name)
    (root / "src" / "main.tsx").write_text("a")
    before = source_hash(root)
    (root / "src" / "main.tsx").write_text("b")
    assert source_hash(root) != before
