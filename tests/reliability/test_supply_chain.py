"""Supply chain: the installed versions of every dependency the project pulls in (its locked
set: this repository pins no lock file, the virtualenv built from pyproject.toml is it) checked
for known vulnerabilities.

`pip-audit` needs a vulnerability service that this network does not reach; the long mode tries
it once per service and records the row as blocked with the exact error. Two routes remain:
- The package index's project JSON (`/pypi/<name>/json`), which this network serves, lists the
  advisories of the project's latest release (the per-version document pip-audit asks for is
  not served). For a dependency installed at its latest release that is an exact, current check;
  a dependency held back (by another package's pin, or by our Python) is named as not covered.
- The advisory database shipped as a package (`safety-db`, frozen in July 2021): every advisory
  whose version range holds an installed version is a finding. That database is old, so a clean
  result says "no advisory known in 2021", which the report states.
"""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.reliability.figures import long_mode, record

PROJECT = "segments-engine"
TEST = "Supply chain"


def locked_dependencies() -> dict[str, str]:
    """Name -> installed version of the project's dependencies (dev extras too), transitively."""
    found: dict[str, str] = {}
    todo = [Requirement(r) for r in md.requires(PROJECT) or []]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in found:
            continue
        try:
            dist = md.distribution(req.name)
        except md.PackageNotFoundError:
            continue  # an optional extra's package that is not installed
        found[name] = dist.version
        for raw in dist.requires or []:
            sub = Requirement(raw)
            if sub.marker is None or sub.marker.evaluate({"extra": ""}):
                todo.append(sub)
    return found


def offline_advisories() -> tuple[dict[str, list[dict[str, object]]], str]:
    """safety-db's full advisory file (read as data: its package init is broken) and its date."""
    spec = importlib.util.find_spec("safety_db")
    assert spec is not None, "safety-db is not installed"
    assert spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / "insecure_full.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    meta = data.pop("$meta", {})
    stamp = datetime.fromtimestamp(int(meta.get("timestamp", 0)), UTC).date().isoformat()
    return {canonicalize_name(k): v for k, v in data.items()}, stamp


def findings(deps: dict[str, str], advisories: dict[str, list[dict[str, object]]]) -> list[str]:
    hits = []
    for name, version in sorted(deps.items()):
        for adv in advisories.get(name, []):
            try:
                affected = SpecifierSet(str(adv.get("v", ""))).contains(version, prereleases=True)
            except InvalidSpecifier:
                affected = any(
                    SpecifierSet(s).contains(version, prereleases=True)
                    for s in adv.get("specs", []) or []  # type: ignore[attr-defined]
                    if re.match(r"^[<>=!~]", str(s))
                )
            if affected:
                hits.append(f"{name} {version}: {adv.get('id')} {adv.get('cve') or ''}".strip())
    return hits


def test_no_installed_dependency_has_a_known_advisory_offline() -> None:
    deps = locked_dependencies()
    assert len(deps) > 20  # the closure really was walked
    advisories, stamp = offline_advisories()
    hits = findings(deps, advisories)
    record(TEST, f"offline advisory DB (safety-db of {stamp})", len(deps),
           f"{len(hits)} known vulnerabilities" + (f": {'; '.join(hits[:5])}" if hits else ""),
           "0", not hits)  # fmt: skip
    assert not hits


def test_the_oracle_finds_a_planted_vulnerable_version() -> None:
    advisories, _ = offline_advisories()
    assert findings({"django": "1.2"}, advisories)  # Django 1.2 has dozens of advisories
    assert not findings({"django": "99.0"}, advisories)


def _pip_audit(requirements: Path, service: str) -> tuple[int, str]:
    args = [sys.executable, "-m", "pip_audit", "--no-deps", "--disable-pip", "-r",
            str(requirements), "-s", service, "--timeout", "10",
            "--progress-spinner", "off"]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout + done.stderr


def _blocked_reason(output: str, audited: int) -> str | None:
    """The exact error when pip-audit could not audit, None when it did."""
    errors = [line for line in output.splitlines() if re.search(r"Error\b|error:", line)]
    if errors:
        return errors[-1].strip()[:300]
    skipped = [line for line in output.splitlines() if "could not be audited" in line]
    if len(skipped) >= audited:  # "No known vulnerabilities found" with nothing audited
        return f"every dependency skipped: {skipped[0].split(None, 1)[1].strip()}"[:300]
    return None


def test_pip_audit_on_the_locked_set() -> None:
    if not long_mode():  # it waits on a network that is not there: by hand only
        return
    deps = locked_dependencies()
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as out:
        out.write("".join(f"{n}=={v}\n" for n, v in sorted(deps.items())))
    for service in ("pypi", "osv"):
        code, output = _pip_audit(Path(out.name), service)
        reason = _blocked_reason(output, len(deps))
        if reason is None:
            found = "No known vulnerabilities found" in output and code == 0
            result = "0 known vulnerabilities" if found else output.strip()[-300:]
            record(TEST, f"pip-audit ({service} service)", len(deps), result, "0", found)
        else:
            record(TEST, f"pip-audit ({service} service)", len(deps), f"blocked: {reason}",
                   "0", False)  # fmt: skip


def _project(name: str) -> dict[str, object]:
    from pip._internal.models.index import PyPI  # pip's own address of the index's JSON API

    with urllib.request.urlopen(f"{PyPI.pypi_url}/{name}/json", timeout=30) as answer:
        data: dict[str, object] = json.load(answer)
    return data


def held_back_by(name: str, latest: str, requires_python: str | None) -> str:
    """Why `name` is not at `latest`: our Python, or the installed package that pins it."""
    python = ".".join(map(str, sys.version_info[:3]))
    if requires_python and not SpecifierSet(requires_python).contains(python):
        return f"{latest} needs Python {requires_python}"
    for dist in md.distributions():
        for raw in dist.requires or []:
            req = Requirement(raw)
            if canonicalize_name(req.name) == name and not req.specifier.contains(latest):
                return f"{dist.metadata['Name']} pins {req.name}{req.specifier}"
    return f"{latest} not installed"


def index_advisories(deps: dict[str, str]) -> tuple[list[str], list[str]]:
    """(findings, dependencies not covered) from the index's advisories of latest releases."""

    def check(item: tuple[str, str]) -> tuple[list[str], str | None]:
        name, version = item
        project = _project(name)
        info = project["info"]
        assert isinstance(info, dict)
        latest = str(info["version"])
        if Version(version) != Version(latest):
            why = held_back_by(name, latest, info.get("requires_python"))
            return [], f"{name} {version} ({why})"
        advisories = project.get("vulnerabilities") or []
        assert isinstance(advisories, list)
        return [f"{name} {version}: {a.get('id')}" for a in advisories
                if not a.get("withdrawn")], None  # fmt: skip

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(check, sorted(deps.items())))
    hits = [hit for found, _ in results for hit in found]
    return hits, [gap for _, gap in results if gap]


def test_index_advisories_of_the_latest_releases() -> None:
    if not long_mode():  # network lookups: by hand only, like pip-audit
        return
    deps = locked_dependencies()
    hits, uncovered = index_advisories(deps)
    covered = len(deps) - len(uncovered)
    result = f"{len(hits)} known vulnerabilities in {covered} dependencies at their latest release"
    if hits:
        result += f": {'; '.join(hits[:5])}"
    if uncovered:
        result += f"; not covered (held back): {'; '.join(uncovered)}"
    record(TEST, "package index advisories of each latest release", len(deps), result, "0",
           not hits)  # fmt: skip
    assert not hits
