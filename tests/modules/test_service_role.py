"""``modules.service_role.ServiceRole``: a role only one service may assume, on behalf of this account's resources."""

from __future__ import annotations

import pytest

from modules.service_role import ServiceRoleProps
from tests.modules.helpers import (
    at_path,
    drift_project_names,
    self_update_project_names,
    drift_role_arns,
    plans_pull_requests,
    pr_project_names,
    pr_role_suffixes,
    project_arn,
    ref,
    release_project_names,
    statements,
    team_step_project,
    team_step_role_arn,
    team_steps,
)


def expected_trusts(synth) -> dict[str, tuple[str, list[str]]]:
    """Construct path of each service role in the devops stack -> (service, aws:SourceArn values)."""
    project = synth.project
    devops = project.devops
    account, region, prefix = devops.account_id, devops.region, devops.name_prefix
    # Exact project ARNs, no wildcard: a pull-request project cannot run as a release role, nor the reverse,
    # and no environment's project can run as another environment's role.
    # CodeStar sources also get the pull-request plan pipeline, run by the same pipeline role.
    pipelines = [f"{prefix}-delivery", *([f"{prefix}-pr-plan"] if plans_pull_requests(project) else [])]
    pipelines += [f"{prefix}-drift"] if devops.drift_schedule else []
    trusts = {
        "devops/synth-build-role": ("codebuild.amazonaws.com", [project_arn(project, f"{prefix}-synth")]),
        "devops/pipeline-role": ("codepipeline.amazonaws.com", [f"arn:aws:codepipeline:{region}:{account}:{name}" for name in pipelines]),
    }
    for env in project.environments:
        for step in ("plan", "apply"):
            trusts[f"devops/{step}-build-role-{env.name}"] = ("codebuild.amazonaws.com", [project_arn(project, f"{prefix}-{step}-{env.name}")])
    for env, step in team_steps(project):
        trusts[f"devops/step-role-{env.name}-{step.name}"] = ("codebuild.amazonaws.com", [project_arn(project, team_step_project(project, env, step))])
    for suffix in pr_role_suffixes(project):
        own_project = f"{prefix}-{suffix.removesuffix('-build')}"
        assert own_project in pr_project_names(project)
        trusts[f"devops/{suffix}-role"] = ("codebuild.amazonaws.com", [project_arn(project, own_project)])
    if devops.source.type == "codecommit":
        trusts["devops/pipeline/start-role"] = ("events.amazonaws.com", [f"arn:aws:events:{region}:{account}:rule/{prefix}-delivery-on-push"])
    for name in self_update_project_names(project):
        trusts[f"devops/{name.removeprefix(prefix + '-')}-build-role"] = ("codebuild.amazonaws.com", [project_arn(project, name)])
    for name in drift_project_names(project):
        trusts["devops/drift-build-role"] = ("codebuild.amazonaws.com", [project_arn(project, name)])
        trusts["devops/drift-pipeline/start-role"] = ("events.amazonaws.com", [f"arn:aws:events:{region}:{account}:rule/{prefix}-drift-on-schedule"])
    return trusts


@pytest.fixture(params=["example_synth", "alt_synth", "token_synth"])
def any_synth(request: pytest.FixtureRequest):
    """The two projects, and the GitHub source with a token (which adds the comment build)."""
    return request.getfixturevalue(request.param)


def test_devops_stack_has_exactly_the_expected_service_roles(any_synth) -> None:
    roles = any_synth.stacks["devops"]["resource"]["aws_iam_role"].values()
    assert sorted(r["//"]["metadata"]["path"].rsplit("/", 1)[0] for r in roles) == sorted(expected_trusts(any_synth))


def test_repo_devops_stack_role_names_are_written_out(example_synth) -> None:
    roles = example_synth.stacks["devops"]["resource"]["aws_iam_role"].values()
    assert sorted(r["name"] for r in roles) == [
        "acme-platform-apply-build-dev",
        "acme-platform-apply-build-prod",
        "acme-platform-apply-build-staging",
        "acme-platform-codepipeline",
        "acme-platform-devops-apply-build",
        "acme-platform-devops-plan-build",
        "acme-platform-drift-plan-build",
        "acme-platform-drift-start",
        "acme-platform-plan-build-dev",
        "acme-platform-plan-build-prod",
        "acme-platform-plan-build-staging",
        "acme-platform-pr-plan-build",
        "acme-platform-pr-synth-build",
        "acme-platform-step-bucket-check-build-dev",
        "acme-platform-step-bucket-check-build-prod",
        "acme-platform-step-bucket-check-build-staging",
        "acme-platform-synth-build",
    ]


def test_token_devops_stack_role_names_are_written_out(token_synth) -> None:
    roles = token_synth.stacks["devops"]["resource"]["aws_iam_role"].values()
    assert sorted(r["name"] for r in roles) == [
        "tok-apply-build-dev",
        "tok-codepipeline",
        "tok-devops-apply-build",
        "tok-devops-plan-build",
        "tok-drift-plan-build",
        "tok-drift-start",
        "tok-plan-build-dev",
        "tok-pr-comment-build",
        "tok-pr-plan-build",
        "tok-pr-synth-build",
        "tok-synth-build",
    ]


def test_trust_names_the_service_and_pins_source_account_and_arn(any_synth) -> None:
    synth = any_synth
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


def test_each_role_has_one_inline_least_privilege_policy(any_synth) -> None:
    devops = any_synth.stacks["devops"]
    for construct in expected_trusts(any_synth):
        role_id, _ = at_path(devops, "aws_iam_role", f"{construct}/role")
        _, inline = at_path(devops, "aws_iam_role_policy", f"{construct}/policy")
        assert inline["role"] == ref("aws_iam_role", role_id, "id")
        assert inline["name"] == "least-privilege"
        assert statements(inline), construct


def codebuild_trusts(synth) -> dict[str, list[str]]:
    """Role name -> aws:SourceArn values, for every role CodeBuild may assume in the devops stack."""
    found = {}
    for role in synth.stacks["devops"]["resource"]["aws_iam_role"].values():
        (trust,) = statements(role, "assume_role_policy")
        if trust["Principal"] == {"Service": "codebuild.amazonaws.com"}:
            found[role["name"]] = trust["Condition"]["ArnLike"]["aws:SourceArn"]
    return found


def test_release_and_pull_request_build_roles_trust_disjoint_exact_project_sets(any_synth) -> None:
    project = any_synth.project
    prefix = project.devops.name_prefix
    trusts = codebuild_trusts(any_synth)
    release_roles = {f"{prefix}-synth-build", *(f"{prefix}-{step}-build-{env.name}" for env in project.environments for step in ("plan", "apply"))}
    release_roles |= {f"{name}-build" for name in self_update_project_names(project)}
    release_roles |= {team_step_role_arn(project, env, step).split("/")[-1] for env, step in team_steps(project)}
    pr_roles = {f"{prefix}-{suffix}" for suffix in pr_role_suffixes(project)}
    drift_roles = {arn.split("/")[-1] for arn in drift_role_arns(project)}
    assert set(trusts) == release_roles | pr_roles | drift_roles
    assert {arn for role in drift_roles for arn in trusts[role]} == {project_arn(project, name) for name in drift_project_names(project)}
    release_arns = {arn for role in release_roles for arn in trusts[role]}
    pr_arns = {arn for role in pr_roles for arn in trusts[role]}
    assert release_arns == {project_arn(project, name) for name in release_project_names(project)}
    assert pr_arns == {project_arn(project, name) for name in pr_project_names(project)}
    assert not release_arns & pr_arns
    for role, arns in trusts.items():
        assert not any("*" in arn or "?" in arn for arn in arns), f"{role}: {arns}"
    # No release trust pattern matches a pull-request project, whatever its form.
    assert not any(arn.split("/", 1)[1].startswith(f"{prefix}-pr-") for arn in release_arns)


def test_every_build_project_runs_as_a_role_that_trusts_exactly_that_side(any_synth) -> None:
    """Each project's own ARN is in its service role's trust; a project never runs as a role of the other side."""
    devops = any_synth.stacks["devops"]
    project = any_synth.project
    role_by_ref = {ref("aws_iam_role", lid, "arn"): role for lid, role in devops["resource"]["aws_iam_role"].items()}
    pr_names = set(pr_project_names(project))
    checked = 0
    for build in devops["resource"]["aws_codebuild_project"].values():
        role = role_by_ref[build["service_role"]]
        (trust,) = statements(role, "assume_role_policy")
        source_arns = trust["Condition"]["ArnLike"]["aws:SourceArn"]
        assert project_arn(project, build["name"]) in source_arns, build["name"]
        assert ("-pr-" in role["name"]) == (build["name"] in pr_names), f"{build['name']} runs as {role['name']}"
        checked += 1
    assert checked == len(release_project_names(project)) + len(pr_names) + len(drift_project_names(project))


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
        ({"role_name": ""}, 'ServiceRoleProps.role_name "" must be 1-64 characters of letters, digits and +=,.@_-'),
        ({"role_name": "r" * 65}, f'ServiceRoleProps.role_name "{"r" * 65}" must be 1-64 characters of letters, digits and +=,.@_-'),
    ],
)
def test_invalid_props_are_refused_with_the_rule(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError) as error:
        props(**overrides)
    assert str(error.value) == message


def test_managed_policy_attachments_keep_the_ids_teams_stacks_already_hold() -> None:
    """A managed policy's attachment is named from the policy's path and name as it always was: a new id
    would make terraform re-create the attachment in every stack that uses ServiceRole."""
    import json

    import cdktf

    from modules.framework import TerraformStack
    from modules.service_role import ServiceRole

    stack = TerraformStack(cdktf.Testing.app(), "service-role")
    arns = ["arn:aws:iam::aws:policy/service-role/AWSCodeBuildDeveloperAccess", "arn:aws:iam::111111111111:policy/team/deploy_extra"]
    ServiceRole(stack, "role", ServiceRoleProps(
        role_name="example-build", service="codebuild.amazonaws.com", account_id="111111111111",
        source_arns=["arn:aws:codebuild:eu-west-1:111111111111:project/example"], statements=[], managed_policy_arns=arns,
    ))  # fmt: skip
    attachments = json.loads(cdktf.Testing.synth(stack))["resource"]["aws_iam_role_policy_attachment"]
    assert {logical_id: resource["policy_arn"] for logical_id, resource in attachments.items()} == {
        "role_policy-service-role-AWSCodeBuildDeveloperAccess_46F3F788": arns[0],
        "role_policy-team-deploy_extra_0C4705A8": arns[1],
    }
