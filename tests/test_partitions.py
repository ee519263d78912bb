"""ARNs follow the partition of the DevOps region: a China (``aws-cn``) or GovCloud (``aws-us-gov``)
installation synthesizes no ``arn:aws:`` ARN anywhere, and no code but the naming helper writes one."""

from __future__ import annotations

import re

import pytest

from provisioner.configuration import settings
from provisioner.paths import REPO_ROOT
from tests.conftest import Synthesized, _synthesize, write_environments

CHINA_DEVOPS = """
account_id          = "111111111111"
region              = "cn-north-1"
name_prefix         = "cn"
notification_emails = ["ops@example.com"]
source {
  type       = "codecommit"
  repository = "platform-infra"
}
"""
CHINA_ENVIRONMENTS = {
    "dev": """
account_id = "222222222222"
region     = "cn-northwest-1"
deployment_role {
  extra_trusted_role_arns  = ["arn:aws-cn:iam::111111111111:role/break-glass"]
  permissions_boundary_arn = "arn:aws-cn:iam::222222222222:policy/boundary"
}
bootstrap {
  role_arn       = "arn:aws-cn:iam::222222222222:role/admin"
  state_role_arn = "arn:aws-cn:iam::111111111111:role/state-admin"
}
""",
}
GOVCLOUD_DEVOPS = """
account_id          = "333333333333"
region              = "us-gov-west-1"
name_prefix         = "gov"
github_token_secret = "gov/github-token"
source {
  type       = "codestar"
  repository = "gov/infra"
}
"""
GOVCLOUD_ENVIRONMENTS = {
    "prod": """
account_id        = "444444444444"
region            = "us-gov-east-1"
requires_approval = true
deployment_role {
  plan_trusted_role_arns = ["arn:aws-us-gov:iam::333333333333:role/operator"]
}
bootstrap {
  profile = "prod-admin"
}
""",
}
INSTALLATIONS = {"aws-cn": (CHINA_DEVOPS, CHINA_ENVIRONMENTS), "aws-us-gov": (GOVCLOUD_DEVOPS, GOVCLOUD_ENVIRONMENTS)}
ARN_PARTITION = re.compile(r"\barn:([a-z-]+):")


@pytest.fixture(scope="module", params=sorted(INSTALLATIONS))
def installation(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Synthesized]:
    """(partition, the whole app synthesized for an installation whose accounts are all in that partition)."""
    partition = request.param
    root = tmp_path_factory.mktemp(partition)
    project = settings.load(write_environments(root, *INSTALLATIONS[partition]))
    assert project.naming.partition == partition
    return partition, _synthesize(project, root / "cdktf.out")


def test_every_arn_of_every_stack_is_in_the_partition_of_the_region(installation: tuple[str, Synthesized]) -> None:
    partition, synth = installation
    assert len(synth.stacks) == 1 + 2 * len(synth.project.environments)
    for name in synth.stacks:
        text = (synth.outdir / "stacks" / name / "cdk.tf.json").read_text()
        assert "arn:aws:" not in text, f"{name}: {text[max(0, text.find('arn:aws:') - 200) : text.find('arn:aws:') + 200]}"
        assert set(ARN_PARTITION.findall(text)) == {partition}, name


def test_cloudwatch_logs_is_named_by_the_partitions_domain(installation: tuple[str, Synthesized]) -> None:
    """CloudWatch Logs' service principal is regional, and in China it takes the partition's domain."""
    partition, synth = installation
    region = synth.project.devops.region
    domain = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    assert f'\\"Service\\":\\"logs.{region}.{domain}\\"' in (synth.outdir / "stacks" / "devops" / "cdk.tf.json").read_text()


def test_the_policy_gates_own_rules_read_the_partitions_arns(installation: tuple[str, Synthesized]) -> None:
    """The bucket-policy rule matches a policy's ARNs to its bucket: in this partition too."""
    from provisioner.policy_gate import rules

    _, synth = installation
    for name, stack in synth.stacks.items():
        failed = [f"{result.rule.id} {result.address}: {result.detail}" for result in rules.check_stack(stack) if not result.passed]
        assert failed == [], name


def test_no_code_writes_an_arn_aws_literal_but_the_naming_helper() -> None:
    """Python source only: the examples in modules/README.md show what a user in the commercial partition
    writes in their own stack, and environments/ files are user input that ``provisioner check`` validates."""
    helper = REPO_ROOT / "provisioner" / "configuration" / "naming.py"
    found = [
        f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}"
        for folder in ("provisioner", "modules")
        for path in sorted((REPO_ROOT / folder).rglob("*.py"))
        if path != helper
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "arn:aws:" in line
    ]
    assert found == []
