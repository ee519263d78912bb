"""Every synthesized stack passes `terraform init` + `terraform validate` offline against the provider mirror."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import Synthesized, run_terraform


def _validate(stack_dir: Path, env: dict[str, str]) -> str:
    run_terraform(["init", "-backend=false", "-input=false", "-no-color"], stack_dir, env)
    return run_terraform(["validate", "-no-color"], stack_dir, env).stdout


@pytest.mark.parametrize("which", ["example_synth", "alt_synth", "token_synth"])
def test_every_stack_validates_offline(which: str, request: pytest.FixtureRequest, terraform_env, tmp_path: Path) -> None:
    synth: Synthesized = request.getfixturevalue(which)
    # Work on a copy: the session's synthesized output stays exactly as synthesized for other tests.
    stack_dirs = []
    for name in synth.stacks:
        target = tmp_path / name
        shutil.copytree(synth.outdir / "stacks" / name, target)
        stack_dirs.append(target)
    with ThreadPoolExecutor(max_workers=2) as pool:
        outputs = list(pool.map(lambda d: _validate(d, terraform_env), stack_dirs))
    assert len(outputs) == 1 + 2 * len(synth.project.environments)
    for stack_dir, output in zip(stack_dirs, outputs):
        assert "The configuration is valid" in output, f"{stack_dir.name}: {output}"
