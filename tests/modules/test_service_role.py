"""``modules.service_role.ServiceRole``: a role only one service may assume, on behalf of this account's resources."""

from __future__ import annotations

import pytest

from modules.service_role import ServiceRoleProps
from tests.modules.helpers import at_path, ref, statements


def expected_trusts(synth) -> dict[str, tuple[str, list[str]]]:
    """Construct path of each service role in the devops stack -> (service, aws:SourceArn values)."""
    devops = synth.project.devops
    account, region, prefix = devops.account_id, devops.region, devops.name_prefix
    projects = [f"arn:aws:codebuild:{region}:{account}:project/{prefix}-*"]
    # CodeStar sources also get the pull-request plan pipeline, run by the same pipeline role.
    pipelines = [f"{prefix}-delivery", *([f"{prefix}-pr-plan"] if devops.source.type == "codestar" else [])]
    trusts = {
        "devops/synth-build-role": ("codebuild.amazonaws.com", projects),
        "devops/deploy-build-role": ("codebuild.amazonaws.com", projects),
        "devops/pipeline-role": ("codepipeline.amazonaws.com", [f"arn:aws:codepipeline:{region}:{account}:{name}" for name in pipelines]),
    }
    if devops.source.type == "codestar":
        # Pull requests are planned by their own read-only build role, started by the same CodeBuild projects ARN pattern.
        trusts["devops/pr-plan-build-role"] = ("codebuild.amazonaws.com", projects)
    if devops.source.type == "codecommit":
        trusts["devops/pipeline/start-role"] = ("events.amazonaws.com", [f"arn:aws:events:{region}:{account}:rule/{prefix}-delivery-on-push"])
    return trusts


def test_devops_stack_has_exactly_the_expected_service_roles(synth) -> None:
    roles = synth.stacks["devops"]["resource"]["aws_iam_role"].values()
    assert sorted(r["//"]["metadata"]["path"].rsplit("/", 1)[0] for r in roles) == sorted(expected_trusts(synth))


def test_repo_devops_stack_role_names_are_written_out(repo_synth) -> None:
    roles = repo_synth.stacks["devops"]["resource"]["aws_iam_role"].values()
    assert sorted(r["name"] for r in roles) == [
        "acme-platform-codepipeline",
        "acme-platform-deploy-build",
        "acme-platform-pr-plan-build",
        "acme-platform-synth-build",
    ]


def test_trust_names_the_service_and_pins_source_account_and_arn(synth) -> None:
    account = synth.project.devops.account_id
    for construct, (service, source_arns) in expected_trusts(synth).items():
        _, role = at_path(synth.stacks["devops"], "aws_iam_role", f"{construct}/role")
        assert statements(role, "assume_role_policy") == [
            {
                "Sid": "TrustServiceForThisAccountOnly",
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}, "ArnLike": {"aws:SourceArn": source_arns}},
            }
        ], construct


def test_each_role_has_one_inline_least_privilege_policy(synth) -> None:
    devops = synth.stacks["devops"]
    for construct in expected_trusts(synth):
        role_id, _ = at_path(devops, "aws_iam_role", f"{construct}/role")
        _, inline = at_path(devops, "aws_iam_role_policy", f"{construct}/policy")
        assert inline["role"] == ref("aws_iam_role", role_id, "id")
        assert inline["name"] == "least-privilege"
        assert statements(inline), construct


# --- props validation --------------------------------------------------------------------------
def props(*statement_list: dict, **overrides) -> ServiceRoleProps:
    return ServiceRoleProps(
        **{
            "role_name": "example-build",
            "service": "codebuild.amazonaws.com",
            "account_id": "111111111111",
            "source_arns": ["arn:aws:codebuild:eu-west-1:111111111111:project/example-*"],
            "statements": list(statement_list),
            **overrides,
        }
    )


@pytest.mark.parametrize(
    ("action", "resource"),
    [("*", "*"), ("s3:*", "*"), (["s3:GetObject", "*"], ["arn:aws:s3:::b/*", "*"]), (["iam:*"], ["*"])],
)
def test_wildcard_actions_on_every_resource_are_refused(action, resource) -> None:
    with pytest.raises(ValueError) as error:
        props({"Sid": "TooBroad", "Effect": "Allow", "Action": action, "Resource": resource})
    assert str(error.value) == "ServiceRoleProps(example-build): statement TooBroad allows * actions on * resources"


@pytest.mark.parametrize(
    "statement",
    [
        {"Sid": "Scoped", "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
        {"Sid": "Specific", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Sid": "DenyAll", "Effect": "Deny", "Action": "*", "Resource": "*"},
    ],
)
def test_narrower_statements_are_accepted(statement: dict) -> None:
    assert props(statement).statements == [statement]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"source_arns": []}, "ServiceRoleProps(example-build).source_arns needs at least one ARN"),
        ({"role_name": ""}, 'ServiceRoleProps.role_name "" must be 1-64 characters'),
        ({"role_name": "r" * 65}, f'ServiceRoleProps.role_name "{"r" * 65}" must be 1-64 characters'),
    ],
)
def test_invalid_props_are_refused_with_the_rule(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError) as error:
        props(**overrides)
    assert str(error.value) == message
