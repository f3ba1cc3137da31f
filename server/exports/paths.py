"""Folder destinations stay under the export root: a path given by a user is relative to it,
and whatever it resolves to (after `..`, absolute paths and symlinks) must lie inside it."""

from __future__ import annotations

from pathlib import Path, PurePosixPath


class PathOutsideRoot(ValueError):
    """The path leaves the export root (or is not a usable relative folder path)."""


def check_relative(path: str) -> None:
    """Lexical checks, before touching the disk. Raises PathOutsideRoot."""
    pure = PurePosixPath(path)
    if not path.strip() or "\x00" in path or "\\" in path:
        raise PathOutsideRoot("a folder path relative to the export root, e.g. crm/weekly")
    if pure.is_absolute() or ".." in pure.parts:
        raise PathOutsideRoot("the path must stay under the export root (no absolute path, no ..)")


def confine(root: Path, *parts: str) -> Path:
    """`root/parts...` resolved (symlinks followed), checked to lie under the resolved root.
    Raises PathOutsideRoot."""
    for part in parts:
        check_relative(part)
    return check_inside(root, root.resolve().joinpath(*parts))


def check_inside(root: Path, path: Path) -> Path:
    """`path` resolved, when it lies under the resolved root. Raises PathOutsideRoot."""
    target = path.resolve()
    if not target.is_relative_to(root.resolve()):
        raise PathOutsideRoot("the path leads outside the export root (through a symlink)")
    return target
