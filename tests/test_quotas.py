"""AWS quotas: 50 environments with the longest names the configuration allows fit every one of them, the
sizes ``provisioner check`` measures are the sizes of what is synthesized, and a configuration that would
exceed a quota is refused at check, naming the quota.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.configuration import quotas, settings
from provisioner.delivery.buildspecs import MAX_BUILDSPEC_CHARS
from provisioner.paths import REPO_ROOT
from tests.conftest import Synthesized, _synthesize, write_environments
from tests.modules.helpers import terraform_string
from tests.permissions.world import read_world

PREFIX = "abcdefghij-klm"  # 14 characters: with 20-character environment names, the longest pair AWS's names allow
DEVOPS = f"""
account_id          = "111111111111"
region              = "eu-west-1"
name_prefix         = "{PREFIX}"
github_token_secret = "{PREFIX}/github-token"
source {{
  type       = "codestar"
  repository = "acme/platform-infrastructure"
}}
"""


def environment(index: int, *, order: int, extra: str = "") -> str:
    account = f"2{index:011d}"
    return f"""
account_id        = "{account}"
region            = "eu-west-1"
order             = {order}
requires_approval = true
deployment_role {{
  external_id             = "{PREFIX}-external-id-{index:02d}"
  extra_trusted_role_arns = ["arn:aws:iam::111111111111:role/{PREFIX}-break-glass-operator"]
  plan_trusted_role_arns  = ["arn:aws:iam::111111111111:role/{PREFIX}-plan-operator", "arn:aws:iam::333333333333:role/github-actions-plan"]
  {extra}
}}
bootstrap {{
  role_arn       = "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
  state_role_arn = "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole"
}}
"""


def fifty_environments(orders: int = 10) -> dict[str, str]:
    """50 environments named with 20 characters, spread over ``orders`` waves, each with an approval."""
    return {f"environment-numbr-{i:02d}": environment(i, order=i % orders + 1) for i in range(50)}


@pytest.fixture(scope="session")
def fifty(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    root = tmp_path_factory.mktemp("fifty")
    project = settings.load(write_environments(root, DEVOPS, fifty_environments()))
    return _synthesize(project, root / "cdktf.out")


def synthesized_sizes(synth: Synthesized) -> dict[str, int]:
    """What AWS would count, read from cdk.tf.json with references replaced by ARNs of the same length."""
    world = read_world(synth)
    sizes: dict[str, int] = {}
    for arn, role in world.roles.items():
        name = f"role {arn.rsplit('/', 1)[1]} (account {role.account})"
        sizes[f"{name}: its trust policy"] = len(json.dumps(role.trust, separators=(",", ":")))
        sizes[f"{name}: its inline policies"] = sum(len(json.dumps(doc, separators=(",", ":"))) for doc in role.inline)
        sizes[f"{name}: its managed policies"] = len(role.managed)
    return sizes


def test_fifty_environments_with_the_longest_names_pass_check(fifty: Synthesized) -> None:
    assert len(fifty.project.environments) == 50
    assert max(len(env.name) for env in fifty.project.environments) == 20
    assert quotas.problems(fifty.project) == []


def test_check_measures_exactly_what_is_synthesized(fifty: Synthesized) -> None:
    """The sizes check computes before any synth are the sizes of the synthesized documents, to the character."""
    measured = {m.what: m.size for m in quotas.measures(fifty.project) if m.quota in (quotas.TRUST_POLICY, quotas.INLINE_POLICIES, quotas.MANAGED_POLICIES_PER_ROLE)}
    synthesized = synthesized_sizes(fifty)
    # The start roles of the CodeCommit trigger and the drift schedule belong to ``DeliveryPipeline``; one
    # statement on one pipeline, whatever the number of environments.
    start_roles = {what for what in synthesized if "-delivery-start " in what or "-drift-start " in what}
    assert {what: synthesized[what] for what in synthesized if what not in start_roles} == measured


def test_every_synthesized_document_of_fifty_environments_fits_its_quota(fifty: Synthesized) -> None:
    world = read_world(fifty)
    over: list[str] = []
    for what, size in synthesized_sizes(fifty).items():
        limit = 2048 if "trust" in what else 10240 if "inline" in what else 10
        if size > limit:
            over.append(f"{what}: {size} > {limit}")
    for arn, resource in world.resources.items():
        size = len(json.dumps(resource.policy, separators=(",", ":")))
        limit = 32768 if ":kms:" in arn else 20480 if arn.startswith("arn:aws:s3:::") else 30720
        if size > limit:
            over.append(f"{arn}: {size} > {limit}")
    devops = fifty.stacks["devops"]["resource"]
    for project in devops["aws_codebuild_project"].values():
        if len(terraform_string(project["source"]["buildspec"])) > MAX_BUILDSPEC_CHARS:
            over.append(f"buildspec of {project['name']}")
    for pipeline in devops["aws_codepipeline"].values():
        if len(pipeline["stage"]) > 50:
            over.append(f"{pipeline['name']}: {len(pipeline['stage'])} stages")
        for stage in pipeline["stage"]:
            if len(stage["action"]) > 50:
                over.append(f"{pipeline['name']} {stage['name']}: {len(stage['action'])} actions")
            for action in stage["action"]:
                over += [f"{action['name']}.{key}" for key, value in action.get("configuration", {}).items() if len(value) > 1000]
    assert not over, "\n".join(over)


def test_the_largest_documents_of_fifty_environments(fifty: Synthesized) -> None:
    """The headroom left at 50 environments: the sizes the closing note and README quote."""
    largest = {m.quota.name: m for m in sorted(quotas.measures(fifty.project), key=lambda m: m.size)}
    assert largest["IAM inline policies per role"].size < 0.7 * 10240, largest["IAM inline policies per role"].what
    assert largest["IAM role trust policy"].size < 0.5 * 2048, largest["IAM role trust policy"].what
    assert largest["CodeBuild inline buildspec"].size < 0.9 * MAX_BUILDSPEC_CHARS


# --- configurations that would exceed a quota ------------------------------------------------------
def check(environments: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provisioner", "check", "--environments", str(environments)],
        capture_output=True, text=True, cwd=REPO_ROOT, check=False, timeout=60,
    )  # fmt: skip


def test_too_many_environments_in_one_order_are_refused_naming_the_quota(tmp_path: Path) -> None:
    envs = {f"env{i:02d}": environment(i, order=1) for i in range(17)}  # 17 x (plan, approve, apply) = 51 actions
    result = check(write_environments(tmp_path, DEVOPS, envs))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "provisioner: environments/env00/environment.hcl: pipeline stage Deploy-order-1 (environments "
        + ", ".join(f"env{i:02d}" for i in range(17))
        + "): its actions would be 51, over the CodePipeline actions per stage quota of 50: give some of these environments another order"
    ]


def test_too_many_orders_are_refused_naming_the_quota(tmp_path: Path) -> None:
    envs = {f"env{i:02d}": environment(i, order=i + 1) for i in range(47)}  # Source, Synth, UpdatePipeline(-apply) and 47 waves
    result = check(write_environments(tmp_path, DEVOPS, envs))
    assert result.returncode == 2
    assert result.stderr == (
        f"provisioner: environments/devops.hcl: pipeline {PREFIX}-delivery: its stages (Source and 50 more) would be 51, over the "
        "CodePipeline stages per pipeline quota of 50: give environments fewer distinct orders (equal orders share a stage)\n"
    )


def test_a_trust_policy_over_2048_characters_is_refused(tmp_path: Path) -> None:
    roles = ", ".join(f'"arn:aws:iam::111111111111:role/break-glass-operator-number-{i:02d}"' for i in range(40))
    envs = {"dev": environment(1, order=1).replace('extra_trusted_role_arns = ["arn:aws:iam::111111111111:role/abcdefghij-klm-break-glass-operator"]', f"extra_trusted_role_arns = [{roles}]")}
    result = check(write_environments(tmp_path, DEVOPS, envs))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2, lines  # the deployment role and the plan role both trust them
    for line, role in zip(lines, (f"{PREFIX}-deploy-dev", f"{PREFIX}-plan-dev")):
        assert line.startswith(f"provisioner: environments/dev/environment.hcl: role {role} (account 200000000001): its trust policy would be ")
        assert line.endswith("over the IAM role trust policy quota of 2,048 characters: trust fewer roles (extra_trusted_role_arns, "
                             "plan_trusted_role_arns) or ask AWS to raise the quota to at most 4,096")  # fmt: skip


def test_more_than_ten_managed_policies_are_refused(tmp_path: Path) -> None:
    policies = ", ".join(f'"arn:aws:iam::200000000001:policy/deploy-{i}"' for i in range(11))
    envs = {"dev": environment(1, order=1, extra=f"managed_policy_arns = [{policies}]")}
    result = check(write_environments(tmp_path, DEVOPS, envs))
    assert result.returncode == 2
    assert result.stderr == (
        f"provisioner: environments/dev/environment.hcl:10: role {PREFIX}-deploy-dev (account 200000000001): its managed policies would be 11, "
        "over the IAM managed policies per role quota of 10: combine policies into fewer managed policies, or ask AWS to raise the "
        "quota (to 20 at most)\n"
    )
