"""Shared fixtures. Loading the AWS provider bindings costs seconds per process, so every synthesis
here is session-scoped: the example configuration once, and one alternative project once.

The product's tests use ``examples/`` (environments and workload), never the team's own
``environments/`` and ``workloads/``: they stay green whatever a team declares there. The team's
files are checked by ``tests/test_your_repository.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXAMPLE_ENVIRONMENTS = EXAMPLES / "environments"
EXAMPLE_WORKLOAD = EXAMPLES / "workloads" / "workload.hcl"
# Before the product is imported: its defaults (and every command the tests run) then read the examples.
os.environ["PROVISIONER_ENVIRONMENTS"] = str(EXAMPLE_ENVIRONMENTS)
os.environ["PROVISIONER_WORKLOAD"] = str(EXAMPLE_WORKLOAD)

from provisioner.configuration import settings  # noqa: E402
from provisioner.paths import REPO_ROOT, TERRAFORM_RC  # noqa: E402
from provisioner.policy_gate.gate import CHECKOV  # noqa: E402
from provisioner.runtime import prepare_environment  # noqa: E402

prepare_environment()

# The `github` fixture: a fake GitHub REST API on loopback (pull-request comments).
pytest_plugins = ["tests.fake_github"]

ALT_DEVOPS = """
account_id  = "123456789012"
region      = "us-east-1"
name_prefix = "alt"
source {
  type       = "codecommit"
  repository = "platform-infra"
  branch     = "release"
}
notification_emails = ["a@example.com", "b@example.com"]
drift_schedule      = "off"
self_update         = false
"""
ALT_ENVIRONMENTS = {
    "qa": 'account_id = "210987654321"\nregion = "us-east-1"\norder = 1\nbootstrap {\n  profile = "qa-admin"\n}\n'
    'step "smoke-test" {\n  when = "after-apply"\n  commands = ["python3 checks/smoke.py"]\n  timeout_minutes = 15\n}\n',
    "perf": 'account_id = "210987654322"\nregion = "us-west-2"\norder = 1\nbootstrap {\n  role_arn = "arn:aws:iam::210987654322:role/perf-admin"\n  state_profile = "devops-admin"\n}\n',
    "live": """
account_id        = "210987654323"
region            = "eu-central-1"
order             = 5
requires_approval = true
deployment_role {
  name                     = "live-deployer"
  managed_policy_arns      = ["arn:aws:iam::aws:policy/AdministratorAccess"]
  permissions_boundary_arn = "arn:aws:iam::210987654323:policy/deploy-boundary"
  max_session_duration     = 3600
  external_id              = "live-external-id"
  extra_trusted_role_arns  = ["arn:aws:iam::123456789012:role/operator"]
  plan_trusted_role_arns   = ["arn:aws:iam::123456789012:role/plan-operator", "arn:aws:iam::999999999999:role/github-plan"]
}
bootstrap {
  role_arn       = "arn:aws:iam::210987654323:role/OrganizationAccountAccessRole"
  state_role_arn = "arn:aws:iam::123456789012:role/OrganizationAccountAccessRole"
}
step "drain-check" {
  when     = "before-apply"
  commands = ["./checks/queues-drained.sh"]
}
step "smoke-test" {
  when     = "after-apply"
  commands = ["python3 checks/smoke.py", "echo smoke test passed"]
}
""",
}


def write_environments(root: Path, devops: str, environments: dict[str, str]) -> Path:
    folder = root / "environments"
    folder.mkdir(parents=True)
    (folder / "devops.hcl").write_text(devops)
    for name, text in environments.items():
        (folder / name).mkdir()
        (folder / name / "environment.hcl").write_text(text)
    return folder


class Synthesized:
    """One synthesized app: its project config and each stack's JSON."""

    def __init__(self, project: settings.ProjectConfig, outdir: Path) -> None:
        self.project = project
        self.outdir = outdir
        self.stacks = {
            path.name: json.loads((path / "cdk.tf.json").read_text()) for path in sorted((outdir / "stacks").iterdir())
        }

    def resources(self, stack: str, resource_type: str) -> dict[str, dict]:
        return self.stacks[stack].get("resource", {}).get(resource_type, {})

    def only(self, stack: str, resource_type: str) -> dict:
        found = self.resources(stack, resource_type)
        assert len(found) == 1, f"{stack}: expected one {resource_type}, found {sorted(found)}"
        return next(iter(found.values()))


def _synthesize(project: settings.ProjectConfig, outdir: Path) -> Synthesized:
    from provisioner.app.synthesis import synthesize

    synthesize(project, outdir)
    return Synthesized(project, outdir)


@pytest.fixture(scope="session")
def example_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The example configuration (``examples/environments`` and the example workload), synthesized once."""
    project = settings.load(EXAMPLE_ENVIRONMENTS, repo_root=REPO_ROOT, workload_file=EXAMPLE_WORKLOAD)
    return _synthesize(project, tmp_path_factory.mktemp("example-synth") / "cdktf.out")


@pytest.fixture(scope="session")
def alt_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """A second shape: CodeCommit source, two environments sharing an order, every role option set,
    team steps around applies (after qa's; before and after live's, which has an approval), no drift run
    and no self-update."""
    root = tmp_path_factory.mktemp("alt")
    project = settings.load(write_environments(root, ALT_DEVOPS, ALT_ENVIRONMENTS))
    return _synthesize(project, root / "cdktf.out")


TOKEN_DEVOPS = """
account_id          = "555555555555"
region              = "eu-west-1"
name_prefix         = "tok"
github_token_secret = "tok/github-token"
drift_schedule      = "cron(0 6 ? * MON-FRI *)"
source {
  type       = "codestar"
  repository = "tok/infra"
}
build {
  vpc {
    vpc_id                  = "vpc-0a1b2c3d4e5f60718"
    subnet_ids              = ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60712"]
    security_group_ids      = ["sg-0a1b2c3d4e5f60719"]
    pull_request_subnet_ids = ["subnet-0a1b2c3d4e5f60713"]
  }
}
"""
TOKEN_ENVIRONMENTS = {"dev": 'account_id = "666666666666"\nregion = "eu-west-1"\nbootstrap {\n  profile = "dev-admin"\n}\n'}


@pytest.fixture(scope="session")
def token_synth(tmp_path_factory: pytest.TempPathFactory):
    """A GitHub (CodeStar) source with ``github_token_secret`` set: pull-request plans post a comment. Builds
    run in a VPC, pull requests' in a subnet of their own; drift runs on weekday mornings."""
    root = tmp_path_factory.mktemp("token")
    project = settings.load(write_environments(root, TOKEN_DEVOPS, TOKEN_ENVIRONMENTS))
    return _synthesize(project, root / "cdktf.out")


@pytest.fixture(scope="session")
def terraform_env() -> dict[str, str]:
    """Environment for running terraform offline against the project's CLI config."""
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not on the PATH; install terraform 1.11.x (see README, Setup)")
    if not TERRAFORM_RC.is_file():
        pytest.fail(f"{TERRAFORM_RC} is missing: run `make setup` first")
    env = dict(os.environ, TF_CLI_CONFIG_FILE=str(TERRAFORM_RC), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1")
    return env


def run_terraform(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["terraform", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"terraform {' '.join(args)} in {cwd} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="session")
def checkov() -> Path:
    """checkov from .venv-checkov, built (or found up to date) by the make target `make scan` uses."""
    result = subprocess.run(["make", "--no-print-directory", ".venv-checkov/.installed"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"make .venv-checkov/.installed failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert CHECKOV.is_file()
    return CHECKOV


def bare_python3(bin_dir: Path) -> Path:
    """A ``python3`` for ``bin_dir`` (put it first on PATH): this interpreter without any site-packages (``-S``).

    CodeBuild's image runs the provisioner's build-time commands with no package installed, so what
    they import must be the standard library and the repository's own files; through this shim a
    third-party import fails as it would there. PYTHONPATH still counts, as in the builds.
    """
    bin_dir.mkdir(parents=True, exist_ok=True)
    shim = bin_dir / "python3"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    shim.chmod(0o755)
    return shim
