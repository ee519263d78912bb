"""Every Python file of the product compiles. Most commands import their work lazily, so a syntax error
in, say, the drift detection would otherwise show only when an emulator test reaches it, minutes in."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.paths import REPO_ROOT

SOURCES = sorted(path for folder in ("provisioner", "modules", "workloads", "examples", "demo") for path in (REPO_ROOT / folder).rglob("*.py"))


def test_the_sources_were_found() -> None:
    assert len(SOURCES) > 50 and REPO_ROOT / "provisioner" / "operations" / "drift_detection.py" in SOURCES


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_compiles(path: Path) -> None:
    compile(path.read_text(encoding="utf-8"), str(path), "exec", dont_inherit=True)
