"""Your own files, as the pipeline's Synth build sees them: ``environments/`` and ``workloads/``.

The product's other tests use ``examples/`` and pass whatever you declare here; these tests are the
ones that check your configuration and your workload code: ``provisioner check`` passes, every
stack synthesizes, ``terraform validate`` accepts each one offline, and the policy gate finds nothing.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from provisioner.configuration.settings import load
from provisioner.paths import REPO_ROOT
from tests.conftest import Synthesized, _synthesize, run_terraform

YOUR_ENVIRONMENTS = REPO_ROOT / "environments"
YOUR_WORKLOAD = REPO_ROOT / "workloads" / "workload.hcl"


@pytest.fixture(scope="module")
def your_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    project = load(YOUR_ENVIRONMENTS, workload_file=YOUR_WORKLOAD)
    return _synthesize(project, tmp_path_factory.mktemp("your-repository") / "cdktf.out")


def test_your_stacks_synthesize(your_synth: Synthesized) -> None:
    environments = your_synth.project.environments
    assert sorted(your_synth.stacks) == sorted(["devops", *(e.bootstrap_stack for e in environments), *(e.workload_stack for e in environments)])


def test_your_stacks_validate_offline(your_synth: Synthesized, terraform_env, tmp_path: Path) -> None:
    def validate(name: str) -> str:
        stack_dir = shutil.copytree(your_synth.outdir / "stacks" / name, tmp_path / name)
        run_terraform(["init", "-backend=false", "-input=false", "-no-color"], stack_dir, terraform_env)
        return run_terraform(["validate", "-no-color"], stack_dir, terraform_env).stdout

    with ThreadPoolExecutor(max_workers=2) as pool:
        outputs = dict(zip(your_synth.stacks, pool.map(validate, your_synth.stacks)))
    for name, output in outputs.items():
        assert "The configuration is valid" in output, f"{name}: {output}"


def test_your_stacks_pass_the_policy_gate(your_synth: Synthesized, checkov: Path, tmp_path: Path) -> None:
    from provisioner.policy_gate import gate

    report = gate.scan(your_synth.outdir / "stacks", checkov, gate.SKIPS_FILE, tmp_path)
    assert gate.finding_lines(report) == [] and report.ok
    assert report.stacks == sorted(your_synth.stacks)
