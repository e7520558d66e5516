"""The repository's own files as the tools read them: where the repository is, and its files by pattern."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def texts(root: Path, *patterns: str) -> Iterator[tuple[Path, str]]:
    """Every file under `root` matching a glob of `patterns` (pattern by pattern, in path order), with its text."""
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            yield path, path.read_text(encoding="utf-8")
