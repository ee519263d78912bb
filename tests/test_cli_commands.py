"""The command line: every command registers, and each command module's name is the command's."""

from __future__ import annotations

import subprocess
import sys

from provisioner.cli import COMMAND_MODULES, build_parser
from provisioner.paths import REPO_ROOT


def test_every_command_module_is_named_after_its_command() -> None:
    parser = build_parser()
    (subparsers,) = [action for action in parser._actions if action.dest == "command"]
    commands = sorted(subparsers.choices)
    assert commands == sorted(module.rsplit(".", 1)[1].replace("_", "-") for module in COMMAND_MODULES)
    assert "demo" in commands


def test_demo_help_says_what_it_does() -> None:
    result = subprocess.run([sys.executable, "-m", "provisioner", "demo", "--help"], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "local emulated multi-account AWS" in result.stdout or "local AWS (moto)" in result.stdout


def test_no_two_modules_of_the_product_share_a_name() -> None:
    """Capability folders and command modules: a name says which one you are reading."""
    names: dict[str, list[str]] = {}
    for path in sorted((REPO_ROOT / "provisioner").rglob("*.py")):
        if path.name not in ("__init__.py", "__main__.py"):
            names.setdefault(path.stem, []).append(str(path.relative_to(REPO_ROOT)))
    assert {name: paths for name, paths in names.items() if len(paths) > 1} == {}


def test_version_prints_the_installed_version() -> None:
    from importlib.metadata import version

    result = subprocess.run([sys.executable, "-m", "provisioner", "--version"], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"provisioner {version('pipeline-provisioner')}\n"
