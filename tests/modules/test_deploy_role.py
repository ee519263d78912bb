"""``modules.deploy_role.DeployRole`` in every ``bootstrap-<env>`` stack: who may assume it, and what it may do.

Each bootstrap stack holds two: the write-capable ``deployment-role`` (assumed by the environment's apply
build) and the read-only ``plan-role`` (assumed by every plan: the environment's release plan build and
pull-request plans of unreviewed code).
"""

from __future__ import annotations

import json

import pytest

from modules.deploy_role import DeployRoleProps
from provisioner.app.access import DATA_READS_NEVER_NEEDED, DATA_READS_OF_TAGGED_RESOURCES, OBJECT_READS
from tests.modules.helpers import (
    EXAMPLE_PIPELINE_ROLE,
    READER_A,
    apply_build_role_arn,
    as_list,
    at_path,
    drift_role_arns,
    environment,
    path_of,
    plan_build_role_arn,
    plan_role_arn,
    plans_pull_requests,
    pr_plan_build_role_arn,
    ref,
    root_arn,
    statements,
    team_step_role_arn,
    team_steps,
    where,
)

POWER_USER = "arn:aws:iam::aws:policy/PowerUserAccess"
ADMINISTRATOR = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
CONSTRUCTS = ("deployment-role", "plan-role")


def deployment_role(synth, env) -> tuple[str, dict]:
    return at_path(synth.stacks[env.bootstrap_stack], "aws_iam_role", f"{env.bootstrap_stack}/deployment-role/role")


def plan_role(synth, env) -> tuple[str, dict]:
    return at_path(synth.stacks[env.bootstrap_stack], "aws_iam_role", f"{env.bootstrap_stack}/plan-role/role")


def test_each_bootstrap_stack_holds_exactly_the_deployment_role_and_the_plan_role(synth) -> None:
    for env in synth.project.environments:
        roles = synth.stacks[env.bootstrap_stack]["resource"]["aws_iam_role"].values()
        assert sorted(path_of(r) for r in roles) == [f"{env.bootstrap_stack}/{c}/role" for c in CONSTRUCTS], env.name


def trust(role: dict) -> dict:
    (statement,) = statements(role, "assume_role_policy")
    return statement


def test_role_name_is_the_configured_one(synth) -> None:
    for env in synth.project.environments:
        expected = "live-deployer" if env.name == "live" else f"{synth.project.devops.name_prefix}-deploy-{env.name}"
        assert deployment_role(synth, env)[1]["name"] == expected


def test_trust_is_the_devops_root_pinned_to_the_environments_own_apply_build_role(synth) -> None:
    devops = synth.project.devops
    for env in synth.project.environments:
        statement = trust(deployment_role(synth, env)[1])
        assert statement["Effect"] == "Allow"
        assert statement["Principal"] == {"AWS": root_arn(devops.account_id)}
        assert statement["Action"] == ["sts:AssumeRole"]
        assert "Resource" not in statement, "a trust policy has no Resource element"
        assert statement["Condition"]["ArnEquals"] == {
            "aws:PrincipalArn": sorted([apply_build_role_arn(synth.project, env), *env.deployment_role.extra_trusted_role_arns])
        }


def test_repo_roles_trust_only_their_own_apply_build_role(example_synth) -> None:
    conditions = [trust(deployment_role(example_synth, env)[1])["Condition"]["ArnEquals"] for env in example_synth.project.environments]
    assert conditions == [
        {"aws:PrincipalArn": ["arn:aws:iam::111111111111:role/acme-platform-apply-build-dev"]},
        {"aws:PrincipalArn": ["arn:aws:iam::111111111111:role/acme-platform-apply-build-staging"]},
        {"aws:PrincipalArn": ["arn:aws:iam::111111111111:role/acme-platform-apply-build-prod"]},
    ]


def test_extra_trusted_roles_are_added_to_the_condition(alt_synth) -> None:
    live = environment(alt_synth.project, "live")
    condition = trust(deployment_role(alt_synth, live)[1])["Condition"]["ArnEquals"]["aws:PrincipalArn"]
    assert condition == ["arn:aws:iam::123456789012:role/alt-apply-build-live", "arn:aws:iam::123456789012:role/operator"]


def test_trusted_roles_in_several_accounts_name_each_root(examples) -> None:
    _, role = where(examples, "aws_iam_role", name="example-bare")
    statement = trust(role)
    assert statement["Principal"] == {"AWS": [root_arn("111111111111"), root_arn("222222222222")]}
    assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": sorted([READER_A, EXAMPLE_PIPELINE_ROLE])}}


@pytest.mark.parametrize(
    ("synth_name", "env_name", "external_id"),
    [
        ("example_synth", "dev", None),
        ("example_synth", "staging", None),
        ("example_synth", "prod", "acme-platform-prod"),
        ("alt_synth", "qa", None),
        ("alt_synth", "perf", None),
        ("alt_synth", "live", "live-external-id"),
    ],
)
def test_external_id_is_required_exactly_when_configured(request, synth_name: str, env_name: str, external_id: str | None) -> None:
    synth = request.getfixturevalue(synth_name)
    role = deployment_role(synth, environment(synth.project, env_name))[1]
    condition = trust(role)["Condition"]
    if external_id is None:
        assert set(condition) == {"ArnEquals"}
        assert "ExternalId" not in role["assume_role_policy"]
    else:
        assert condition["StringEquals"] == {"sts:ExternalId": external_id}


def test_permissions_boundary_and_session_duration(synth) -> None:
    for env in synth.project.environments:
        role = deployment_role(synth, env)[1]
        if env.name == "live":
            assert role["permissions_boundary"] == "arn:aws:iam::210987654323:policy/deploy-boundary"
        else:
            assert "permissions_boundary" not in role
        assert role["max_session_duration"] == 3600, "a chained session lasts an hour at most whatever this says"


def all_attachments(synth, env) -> dict[str, dict]:
    return synth.stacks[env.bootstrap_stack]["resource"].get("aws_iam_role_policy_attachment", {})


def attachments(synth, env, construct: str = "deployment-role") -> dict[str, dict]:
    """The policy attachments of one role of the bootstrap stack, chosen by construct path."""
    prefix = f"{env.bootstrap_stack}/{construct}/"
    return {lid: a for lid, a in all_attachments(synth, env).items() if path_of(a).startswith(prefix)}


def test_every_attachment_belongs_to_one_of_the_two_roles(synth) -> None:
    for env in synth.project.environments:
        owned = {lid for construct in CONSTRUCTS for lid in attachments(synth, env, construct)}
        assert owned == set(all_attachments(synth, env)), env.name


def test_power_user_access_is_the_default_policy(example_synth) -> None:
    for env in example_synth.project.environments:
        lid, _ = deployment_role(example_synth, env)
        found = attachments(example_synth, env)
        assert [a["policy_arn"] for a in found.values()] == [POWER_USER], env.name
        assert all(a["role"] == ref("aws_iam_role", lid, "name") for a in found.values())
        # ... and nothing else in the stack carries it: the only other attachment is the plan role's ReadOnlyAccess.
        assert sorted(a["policy_arn"] for a in all_attachments(example_synth, env).values()) == [POWER_USER, READ_ONLY], env.name


def test_administrator_access_is_never_attached_without_a_boundary(synth) -> None:
    for env in synth.project.environments:
        for construct, (_, role) in (("deployment-role", deployment_role(synth, env)), ("plan-role", plan_role(synth, env))):
            if ADMINISTRATOR in {a["policy_arn"] for a in attachments(synth, env, construct).values()}:
                assert role.get("permissions_boundary"), f"{env.name} {construct}: AdministratorAccess without a permissions boundary"


def test_configured_policies_replace_the_default(alt_synth) -> None:
    live = environment(alt_synth.project, "live")
    assert [a["policy_arn"] for a in attachments(alt_synth, live).values()] == [ADMINISTRATOR]


def test_role_without_policies_has_no_attachment(examples) -> None:
    assert "aws_iam_role_policy_attachment" not in examples["resource"]
    _, role = where(examples, "aws_iam_role", name="example-bare")
    assert role["max_session_duration"] == 3600
    assert "permissions_boundary" not in role


def test_bootstrap_stack_outputs_the_role_arn(synth) -> None:
    for env in synth.project.environments:
        lid, _ = deployment_role(synth, env)
        assert synth.stacks[env.bootstrap_stack]["output"]["deployment_role_arn"] == {"value": ref("aws_iam_role", lid, "arn")}


# --- the read-only plan role ----------------------------------------------------------------------
def test_plan_role_name_is_prefix_plan_environment(synth) -> None:
    prefix = synth.project.devops.name_prefix
    for env in synth.project.environments:
        assert plan_role(synth, env)[1]["name"] == f"{prefix}-plan-{env.name}"
        assert plan_role_arn(synth.project, env) == synth.project.plan_role_arn(env)


def test_repo_plan_role_names_are_written_out(example_synth) -> None:
    names = [plan_role(example_synth, env)[1]["name"] for env in example_synth.project.environments]
    assert names == ["acme-platform-plan-dev", "acme-platform-plan-staging", "acme-platform-plan-prod"]


def test_plan_role_has_read_only_access_and_nothing_else(synth) -> None:
    """Whatever the deployment role is given (alt live: AdministratorAccess), the plan role only reads."""
    for env in synth.project.environments:
        lid, _ = plan_role(synth, env)
        found = attachments(synth, env, "plan-role")
        assert [a["policy_arn"] for a in found.values()] == [READ_ONLY], env.name
        assert all(a["role"] == ref("aws_iam_role", lid, "name") for a in found.values()), env.name
        resources = synth.stacks[env.bootstrap_stack]["resource"]
        assert "aws_iam_policy" not in resources, "no customer policy may widen it"
        # The only inline policy of the stack is the plan role's explicit Deny: it can narrow, never widen.
        (inline,) = resources["aws_iam_role_policy"].values()
        assert path_of(inline) == f"{env.bootstrap_stack}/plan-role/deny", env.name
        assert inline["role"] == ref("aws_iam_role", lid, "id"), env.name
        assert {s["Effect"] for s in statements(inline)} == {"Deny"}, env.name


def plan_role_deny(synth, env) -> dict:
    _, inline = at_path(synth.stacks[env.bootstrap_stack], "aws_iam_role_policy", f"{env.bootstrap_stack}/plan-role/deny")
    return inline


def test_plan_role_explicitly_denies_reading_data(synth) -> None:
    """ReadOnlyAccess reads object, secret and parameter contents, function code, images, logs and query results
    too; a plan needs configuration, and the values of what this project manages (its state holds them anyway)."""
    for env in synth.project.environments:
        inline = plan_role_deny(synth, env)
        assert inline["name"] == "explicit-deny"
        never, others_data, others_objects = statements(inline)
        assert never == {"Sid": "DenyDataReads", "Effect": "Deny", "Action": sorted(DATA_READS_NEVER_NEEDED), "Resource": "*"}
        project_tag = synth.stacks[env.workload_stack]["provider"]["aws"][0]["default_tags"][0]["tags"]["Project"]
        assert others_data == {
            "Sid": "DenyDataReadsOfOtherResources", "Effect": "Deny", "Action": sorted(DATA_READS_OF_TAGGED_RESOURCES), "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:ResourceTag/Project": project_tag}},
        }, env.name  # fmt: skip
        assert others_objects == {
            "Sid": "DenyObjectReadsOfOtherObjects", "Effect": "Deny", "Action": sorted(OBJECT_READS), "Resource": "*",
            "Condition": {"StringNotEquals": {"s3:ExistingObjectTag/Project": project_tag}},
        }, env.name  # fmt: skip
        denied = {a for s in (never, others_data, others_objects) for a in s["Action"]}
        for action in (
            "s3:GetObject", "secretsmanager:GetSecretValue", "ssm:GetParameter", "ssm:GetParameters", "lambda:GetFunction",
            "ecr:BatchGetImage", "logs:GetLogEvents", "logs:StartQuery", "logs:GetQueryResults", "athena:GetQueryResults",
            "dynamodb:GetItem", "dynamodb:Scan", "sqs:ReceiveMessage",
        ):  # fmt: skip
            assert action in denied, action
        assert not any(a.endswith(":*") or a == "*" for a in denied), "a wildcard Deny would also block what plans need"


def test_deployment_role_has_no_deny_and_no_inline_policy(synth) -> None:
    """Deployments may read objects and secrets they manage; only the plan role is narrowed."""
    for env in synth.project.environments:
        policies = synth.stacks[env.bootstrap_stack]["resource"]["aws_iam_role_policy"].values()
        assert not [p for p in policies if path_of(p).startswith(f"{env.bootstrap_stack}/deployment-role/")], env.name


def test_role_without_deny_statements_gets_no_inline_policy(examples) -> None:
    assert "aws_iam_role_policy" not in examples["resource"]


def test_only_deny_statements_are_accepted_as_deny_statements() -> None:
    with pytest.raises(ValueError) as error:
        props(deny_statements=[{"Sid": "Oops", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}])
    assert str(error.value) == "DeployRoleProps.deny_statements: statement Oops must have Effect Deny"


def test_plan_role_trust_is_the_devops_root_pinned_to_the_plan_builds(synth) -> None:
    """The environment's release plan build and (CodeStar sources) the pull-request plan build, plus configured roles."""
    devops = synth.project.devops
    for env in synth.project.environments:
        statement = trust(plan_role(synth, env)[1])
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == ["sts:AssumeRole"]
        assert "Resource" not in statement
        extra = [*env.deployment_role.extra_trusted_role_arns, *env.deployment_role.plan_trusted_role_arns]
        planners = [plan_build_role_arn(synth.project, env), *([pr_plan_build_role_arn(synth.project)] if plans_pull_requests(synth.project) else [])]
        planners += [team_step_role_arn(synth.project, e, step) for e, step in team_steps(synth.project) if e == env]
        planners += drift_role_arns(synth.project)
        trusted = sorted([*planners, *extra])
        roots = sorted({root_arn(arn.split(":")[4]) for arn in trusted})
        assert statement["Principal"] == {"AWS": roots if len(roots) > 1 else roots[0]}
        assert statement["Condition"]["ArnEquals"] == {"aws:PrincipalArn": trusted}
        assert devops.account_id in json.dumps(statement["Principal"])


def test_repo_plan_roles_trust_their_plan_build_the_pr_plan_and_drift_builds_and_their_check(example_synth) -> None:
    conditions = [trust(plan_role(example_synth, env)[1])["Condition"]["ArnEquals"] for env in example_synth.project.environments]
    assert conditions == [
        {
            "aws:PrincipalArn": [
                f"arn:aws:iam::111111111111:role/acme-platform-{role}"
                for role in ("drift-plan-build", f"plan-build-{env}", "pr-plan-build", f"step-bucket-check-build-{env}")
            ]
        }
        for env in ("dev", "staging", "prod")
    ]


def test_extra_trusted_roles_may_also_assume_the_plan_role(alt_synth) -> None:
    live = environment(alt_synth.project, "live")
    statement = trust(plan_role(alt_synth, live)[1])
    assert statement["Condition"]["ArnEquals"]["aws:PrincipalArn"] == [
        "arn:aws:iam::123456789012:role/alt-plan-build-live",
        "arn:aws:iam::123456789012:role/alt-step-drain-check-build-live",
        "arn:aws:iam::123456789012:role/alt-step-smoke-test-build-live",
        "arn:aws:iam::123456789012:role/operator",
        "arn:aws:iam::123456789012:role/plan-operator",
        "arn:aws:iam::999999999999:role/github-plan",
    ]
    assert statement["Principal"] == {"AWS": ["arn:aws:iam::123456789012:root", "arn:aws:iam::999999999999:root"]}


def test_plan_trusted_roles_may_assume_only_the_plan_role(alt_synth) -> None:
    """plan_trusted_role_arns (operators, GitHub Actions) read through the plan role and never reach the deployment role."""
    live = environment(alt_synth.project, "live")
    plan_only = live.deployment_role.plan_trusted_role_arns
    assert plan_only == ("arn:aws:iam::123456789012:role/plan-operator", "arn:aws:iam::999999999999:role/github-plan")
    deployer = trust(deployment_role(alt_synth, live)[1])
    for arn in plan_only:
        assert arn in trust(plan_role(alt_synth, live)[1])["Condition"]["ArnEquals"]["aws:PrincipalArn"], arn
        assert arn not in deployer["Condition"]["ArnEquals"]["aws:PrincipalArn"], arn
        assert arn not in deployment_role(alt_synth, live)[1]["assume_role_policy"], arn
    assert deployer["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}, "the other account is not even a principal"
    for env in alt_synth.project.environments:
        if env.name != "live":
            assert "plan-operator" not in json.dumps(alt_synth.stacks[env.bootstrap_stack]), env.name


def test_build_roles_are_not_crossed(synth) -> None:
    """No plan build is trusted by a deployment role, no apply build by a plan role, and no environment's builds
    by another environment's roles."""
    project = synth.project
    for env in project.environments:
        writers = as_list(trust(deployment_role(synth, env)[1])["Condition"]["ArnEquals"]["aws:PrincipalArn"])
        readers = as_list(trust(plan_role(synth, env)[1])["Condition"]["ArnEquals"]["aws:PrincipalArn"])
        assert pr_plan_build_role_arn(project) not in writers, env.name
        for other in project.environments:
            assert plan_build_role_arn(project, other) not in writers, (env.name, other.name)
            assert apply_build_role_arn(project, other) not in readers, (env.name, other.name)
            assert (apply_build_role_arn(project, other) in writers) == (other is env), (env.name, other.name)
            assert (plan_build_role_arn(project, other) in readers) == (other is env), (env.name, other.name)


@pytest.mark.parametrize(
    ("synth_name", "env_name", "external_id"),
    [
        ("example_synth", "dev", None),
        ("example_synth", "staging", None),
        ("example_synth", "prod", "acme-platform-prod"),
        ("alt_synth", "qa", None),
        ("alt_synth", "perf", None),
        ("alt_synth", "live", "live-external-id"),
    ],
)
def test_plan_role_requires_the_same_external_id(request, synth_name: str, env_name: str, external_id: str | None) -> None:
    synth = request.getfixturevalue(synth_name)
    role = plan_role(synth, environment(synth.project, env_name))[1]
    condition = trust(role)["Condition"]
    if external_id is None:
        assert set(condition) == {"ArnEquals"}
        assert "ExternalId" not in role["assume_role_policy"]
    else:
        assert set(condition) == {"ArnEquals", "StringEquals"}
        assert condition["StringEquals"] == {"sts:ExternalId": external_id}


def test_plan_role_mirrors_boundary_and_session_duration(synth) -> None:
    for env in synth.project.environments:
        deployer, planner = deployment_role(synth, env)[1], plan_role(synth, env)[1]
        assert planner.get("permissions_boundary") == deployer.get("permissions_boundary"), env.name
        assert planner["max_session_duration"] == deployer["max_session_duration"], env.name
        if env.name == "live":
            assert planner["permissions_boundary"] == "arn:aws:iam::210987654323:policy/deploy-boundary"
        else:
            assert "permissions_boundary" not in planner


def test_plan_role_says_it_is_read_only(synth) -> None:
    for env in synth.project.environments:
        assert plan_role(synth, env)[1]["description"].startswith("Read-only"), env.name
        assert not deployment_role(synth, env)[1]["description"].startswith("Read-only"), env.name


def test_bootstrap_stack_outputs_the_plan_role_arn(synth) -> None:
    for env in synth.project.environments:
        lid, _ = plan_role(synth, env)
        outputs = synth.stacks[env.bootstrap_stack]["output"]
        assert outputs["plan_role_arn"] == {"value": ref("aws_iam_role", lid, "arn")}
        assert sorted(outputs) == ["deployment_role_arn", "plan_role_arn"]


# --- props validation --------------------------------------------------------------------------
def props(**overrides) -> DeployRoleProps:
    return DeployRoleProps(**{"role_name": "deployer", "trusted_role_arns": [EXAMPLE_PIPELINE_ROLE], **overrides})


def test_administrator_access_without_boundary_is_refused() -> None:
    with pytest.raises(ValueError) as error:
        props(managed_policy_arns=[POWER_USER, ADMINISTRATOR])
    assert str(error.value) == "DeployRoleProps: AdministratorAccess needs a permissions_boundary_arn"


def test_administrator_access_with_boundary_is_accepted() -> None:
    boundary = "arn:aws:iam::222222222222:policy/boundary"
    assert props(managed_policy_arns=[ADMINISTRATOR], permissions_boundary_arn=boundary).permissions_boundary_arn == boundary


@pytest.mark.parametrize("partition", ["aws-us-gov", "aws-cn"])
def test_administrator_access_is_refused_in_every_partition(partition: str) -> None:
    with pytest.raises(ValueError, match="AdministratorAccess needs a permissions_boundary_arn"):
        props(trusted_role_arns=[f"arn:{partition}:iam::111111111111:role/deploy-build"], managed_policy_arns=[f"arn:{partition}:iam::aws:policy/AdministratorAccess"])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"trusted_role_arns": []}, "DeployRoleProps.trusted_role_arns needs at least one exact role ARN"),
        (
            {"trusted_role_arns": ["arn:aws:iam::111111111111:role/*"]},
            'DeployRoleProps.trusted_role_arns[0] "arn:aws:iam::111111111111:role/*" is not an exact IAM role ARN (arn:<partition>:iam::<12 digits>:role/<name>, no wildcards)',
        ),
        (
            {"trusted_role_arns": ["arn:aws:iam::111111111111:root"]},
            'DeployRoleProps.trusted_role_arns[0] "arn:aws:iam::111111111111:root" is not an exact IAM role ARN (arn:<partition>:iam::<12 digits>:role/<name>, no wildcards)',
        ),
        ({"max_session_duration": 3599}, "DeployRoleProps.max_session_duration 3599 must be 3600-43200"),
        ({"max_session_duration": 43201}, "DeployRoleProps.max_session_duration 43201 must be 3600-43200"),
        ({"role_name": "r" * 65}, f'DeployRoleProps.role_name "{"r" * 65}" must be 1-64 characters of letters, digits and +=,.@_-'),
    ],
)
def test_invalid_props_are_refused_with_the_rule(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError) as error:
        props(**overrides)
    assert str(error.value) == message


def test_trust_policy_is_valid_json_without_interpolation(synth) -> None:
    for env in synth.project.environments:
        for _, role in (deployment_role(synth, env), plan_role(synth, env)):
            text = role["assume_role_policy"]
            assert "${" not in text, f"{role['name']}: the trust policy must not depend on another stack"
            json.loads(text)
