"""Least privilege across the devops stack, read from the synthesized policies: exact ARNs, one
environment per build role, state limited to each build's own stack, pull requests kept apart.

What these policies *allow and deny* when AWS evaluates them is proven in
``tests/permissions/test_permission_matrix.py``; these tests pin their shape.
"""

from __future__ import annotations

import fnmatch
import json

import pytest

from modules.pipeline_blueprint import artifact_prefix
from provisioner.app import access
from provisioner.delivery.steps import drift_step, release_steps
from tests.modules.helpers import (
    as_list,
    at_path,
    deployment_role_arn,
    path_of,
    plan_role_arn,
    plans_pull_requests,
    pr_role_suffixes,
    project_arn,
    ref,
    statements,
    team_steps,
)

PR_SYNTH_BUILD = "devops/pr-synth-build-role"
PR_PLAN_BUILD = "devops/pr-plan-build-role"
PR_COMMENT_BUILD = "devops/pr-comment-build-role"
DRIFT_BUILD = "devops/drift-build-role"
DEVOPS_PLAN_BUILD = "devops/devops-plan-build-role"
DEVOPS_APPLY_BUILD = "devops/devops-apply-build-role"
VPC_DESCRIBE = "DescribeBuildNetwork"
"""The one statement on every resource: EC2's Describe actions take no other (builds in a VPC only)."""


def environment_build_roles(synth) -> list[str]:
    return [f"devops/{kind}-build-role-{env.name}" for env in synth.project.environments for kind in ("plan", "apply")]


def roles(synth) -> list[str]:
    """Construct paths of the devops stack's roles with an inline policy."""
    codecommit = ["devops/pipeline/start-role"] if synth.project.devops.source.type == "codecommit" else []
    drift = [DRIFT_BUILD, "devops/drift-pipeline/start-role"] if synth.project.devops.drift_schedule else []
    drift += [DEVOPS_PLAN_BUILD, DEVOPS_APPLY_BUILD] if synth.project.devops.self_update else []
    return [
        "devops/pipeline-role", "devops/synth-build-role", *environment_build_roles(synth),
        *(f"devops/step-role-{env.name}-{step.name}" for env, step in team_steps(synth.project)),
        *(f"devops/{suffix}-role" for suffix in pr_role_suffixes(synth.project)), *codecommit, *drift,
    ]  # fmt: skip


def release_build_roles(synth) -> list[str]:
    return ["devops/synth-build-role", *environment_build_roles(synth)]


def pr_roles(synth) -> list[str]:
    return [f"devops/{suffix}-role" for suffix in pr_role_suffixes(synth.project)]


@pytest.fixture(params=["example_synth", "alt_synth", "token_synth"])
def any_synth(request: pytest.FixtureRequest):
    """The two projects, and the GitHub source with a token (which adds the comment build)."""
    return request.getfixturevalue(request.param)


def inline_policies(synth, name: str = "least-privilege") -> dict[str, list[dict]]:
    """Construct path of each role -> statements of its inline policy ``name`` (``explicit-deny``: the roles with one)."""
    return {
        policy["//"]["metadata"]["path"].rsplit("/", 1)[0]: statements(policy)
        for policy in synth.stacks["devops"]["resource"]["aws_iam_role_policy"].values()
        if policy["name"] == name
    }


def resource_policies(synth) -> list[tuple[str, dict]]:
    devops = synth.stacks["devops"]["resource"]
    found = [("bucket " + p["//"]["metadata"]["path"], p["policy"]) for p in devops["aws_s3_bucket_policy"].values()]
    found += [("topic " + p["//"]["metadata"]["path"], p["policy"]) for p in devops["aws_sns_topic_policy"].values()]
    return [(name, statement) for name, text in found for statement in json.loads(text)["Statement"]]


def key_policies(synth) -> list[tuple[str, dict]]:
    return [
        (f"{stack}:{key['//']['metadata']['path']}", statement)
        for stack, doc in synth.stacks.items()
        for key in doc.get("resource", {}).get("aws_kms_key", {}).values()
        for statement in statements(key)
    ]


def is_wildcard_action(action: str) -> bool:
    return action == "*" or action.endswith(":*")


def state_bucket_arn(synth) -> str:
    return f"arn:aws:s3:::{synth.project.naming.state_bucket}"


def state_key_arn(synth) -> str:
    return ref("aws_kms_key", at_path(synth.stacks["devops"], "aws_kms_key", "devops/state-key/key")[0], "arn")


def on_state(synth, policy: list[dict]) -> list[dict]:
    bucket, key = state_bucket_arn(synth), state_key_arn(synth)
    return [s for s in policy if any(r == bucket or r.startswith(f"{bucket}/") or r == key for r in as_list(s["Resource"]))]


def test_every_devops_role_has_exactly_one_inline_policy(any_synth) -> None:
    """One allow policy each; only the devops stack's own plan and apply add explicit denies (and ReadOnlyAccess)."""
    policies = any_synth.stacks["devops"]["resource"]["aws_iam_role_policy"].values()
    assert sorted(inline_policies(any_synth)) == sorted(roles(any_synth))
    assert {p["name"] for p in policies} <= {"least-privilege", "explicit-deny"}
    expected_denies = [DEVOPS_APPLY_BUILD, DEVOPS_PLAN_BUILD] if any_synth.project.devops.self_update else []
    assert sorted(inline_policies(any_synth, "explicit-deny")) == expected_denies
    attached = {p["//"]["metadata"]["path"].rsplit("/", 1)[0]: p["policy_arn"] for p in any_synth.stacks["devops"]["resource"].get("aws_iam_role_policy_attachment", {}).values()}
    assert attached == dict.fromkeys(expected_denies, "arn:aws:iam::aws:policy/ReadOnlyAccess")


def test_each_environment_build_role_assumes_exactly_its_environments_role_and_only_they_assume(any_synth) -> None:
    """Plan builds assume their environment's plan role, apply builds its deployment role, the PR plan build every plan role."""
    project = any_synth.project
    expected = {}
    for env in project.environments:
        expected[f"devops/plan-build-role-{env.name}"] = [plan_role_arn(project, env)]
        expected[f"devops/apply-build-role-{env.name}"] = [deployment_role_arn(env)]
    for env, step in team_steps(project):
        # A team's step reads the workload account through the plan role; it never holds the deployment role.
        expected[f"devops/step-role-{env.name}-{step.name}"] = [plan_role_arn(project, env)]
    if plans_pull_requests(project):
        expected[PR_PLAN_BUILD] = sorted(plan_role_arn(project, env) for env in project.environments)
    if project.devops.drift_schedule:
        expected[DRIFT_BUILD] = sorted(plan_role_arn(project, env) for env in project.environments)
    for role, policy in inline_policies(any_synth).items():
        assuming = [s for s in policy if any(a.startswith("sts:") for a in as_list(s["Action"]))]
        if role in expected:
            assert assuming == [{"Sid": "AssumeExactRoles", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": expected[role]}], role
        else:
            assert assuming == [], f"{role} must not assume any role"


def test_no_plan_build_names_a_deployment_role_even_by_pattern(any_synth) -> None:
    """Plans run before anyone approved: no deployment role ARN may appear in a plan build's policy."""
    deployers = {deployment_role_arn(env) for env in any_synth.project.environments}
    planners = [f"devops/plan-build-role-{env.name}" for env in any_synth.project.environments] + pr_roles(any_synth)
    planners += [DRIFT_BUILD] if any_synth.project.devops.drift_schedule else []
    for role in planners:
        policy = [statement for statement in inline_policies(any_synth)[role] if statement["Sid"] != VPC_DESCRIBE]
        named = {resource for statement in policy for resource in as_list(statement["Resource"])}
        assert not named & deployers, role
        assert not any(fnmatch.fnmatchcase(d, r) for r in named for d in deployers), role


def test_repo_build_roles_assume_written_out_roles(example_synth) -> None:
    policies = inline_policies(example_synth)
    assume = {role: s["Resource"] for role, policy in policies.items() for s in policy if s["Sid"] == "AssumeExactRoles"}
    assert assume == {
        "devops/plan-build-role-dev": ["arn:aws:iam::222222222222:role/acme-platform-plan-dev"],
        "devops/apply-build-role-dev": ["arn:aws:iam::222222222222:role/acme-platform-deploy-dev"],
        "devops/plan-build-role-staging": ["arn:aws:iam::333333333333:role/acme-platform-plan-staging"],
        "devops/apply-build-role-staging": ["arn:aws:iam::333333333333:role/acme-platform-deploy-staging"],
        "devops/plan-build-role-prod": ["arn:aws:iam::444444444444:role/acme-platform-plan-prod"],
        "devops/apply-build-role-prod": ["arn:aws:iam::444444444444:role/acme-platform-deploy-prod"],
        PR_PLAN_BUILD: [
            "arn:aws:iam::222222222222:role/acme-platform-plan-dev",
            "arn:aws:iam::333333333333:role/acme-platform-plan-staging",
            "arn:aws:iam::444444444444:role/acme-platform-plan-prod",
        ],
        DRIFT_BUILD: [
            "arn:aws:iam::222222222222:role/acme-platform-plan-dev",
            "arn:aws:iam::333333333333:role/acme-platform-plan-staging",
            "arn:aws:iam::444444444444:role/acme-platform-plan-prod",
        ],
        "devops/step-role-dev-bucket-check": ["arn:aws:iam::222222222222:role/acme-platform-plan-dev"],
        "devops/step-role-staging-bucket-check": ["arn:aws:iam::333333333333:role/acme-platform-plan-staging"],
        "devops/step-role-prod-bucket-check": ["arn:aws:iam::444444444444:role/acme-platform-plan-prod"],
    }


def test_codecommit_source_has_no_pull_request_plan_build(alt_synth) -> None:
    devops = alt_synth.stacks["devops"]["resource"]
    assert not [r for r in devops["aws_iam_role"].values() if path_of(r).startswith(PR_PLAN_BUILD + "/") or r["name"] == "alt-pr-plan-build"]
    assert not [p for p in devops["aws_codebuild_project"].values() if p["name"] == "alt-pr-plan"]
    # No pull-request pipeline at all: no PR roles, projects, bucket or pipeline, and nothing names them.
    assert "alt-pr-" not in json.dumps(alt_synth.stacks["devops"])
    for env in alt_synth.project.environments:
        assert "alt-pr-" not in json.dumps(alt_synth.stacks[env.bootstrap_stack]), "a plan role must not trust a role that does not exist"
    assert [p["name"] for p in devops["aws_codepipeline"].values()] == ["alt-delivery"]


def test_no_build_role_reads_a_github_token_when_no_secret_is_configured(synth) -> None:
    assert synth.project.devops.github_token_secret is None
    for role, policy in inline_policies(synth).items():
        secrets = [s for s in policy if any(a.startswith("secretsmanager:") for a in as_list(s["Action"]))]
        assert secrets == [], role


def test_no_identity_statement_allows_wildcard_actions_or_every_resource(any_synth) -> None:
    for role, policy in inline_policies(any_synth).items():
        for statement in policy:
            assert statement["Effect"] == "Allow", f"{role}: {statement['Sid']}"
            assert not any(is_wildcard_action(a) for a in as_list(statement["Action"])), f"{role}: {statement['Sid']}"
            if statement["Sid"] == VPC_DESCRIBE:
                assert all(a.startswith("ec2:Describe") for a in as_list(statement["Action"])), f"{role}: only describing takes every resource"
                continue
            assert "*" not in as_list(statement["Resource"]), f"{role}: {statement['Sid']}"
            assert "NotAction" not in statement and "NotResource" not in statement


def test_resource_policies_allow_no_anonymous_principal_and_no_wildcard(any_synth) -> None:
    for name, statement in resource_policies(any_synth):
        if statement["Effect"] == "Deny":
            continue
        assert statement["Principal"] != "*" and statement["Principal"] != {"AWS": "*"}, f"{name}: {statement['Sid']}"
        assert not any(is_wildcard_action(a) for a in as_list(statement["Action"])), f"{name}: {statement['Sid']}"
        assert "*" not in as_list(statement["Resource"]), f"{name}: {statement['Sid']}"


def test_resource_policies_grant_no_role_of_any_account(any_synth) -> None:
    """Same-account roles get their access from identity policies; no other account gets any. So the bucket
    and key policies stay the same size whatever the number of environments."""
    for name, statement in resource_policies(any_synth) + key_policies(any_synth):
        assert "aws:PrincipalArn" not in json.dumps(statement), f"{name}: {statement['Sid']}"


def test_only_the_key_policy_root_statement_allows_every_kms_action(any_synth) -> None:
    for name, statement in key_policies(any_synth):
        wildcard = any(is_wildcard_action(a) for a in as_list(statement["Action"]))
        if statement["Sid"] == "AccountRootFullControl":
            assert statement["Principal"]["AWS"].endswith(":root")
            continue
        assert not wildcard, f"{name}: {statement['Sid']}"
        assert statement["Principal"] != "*" and statement["Principal"].get("AWS") != "*", f"{name}: {statement['Sid']}"


# --- Terraform state -------------------------------------------------------------------------------
def expected_state_statements(synth, stack: str, *, write: bool) -> list[dict]:
    bucket = state_bucket_arn(synth)
    return [
        {"Sid": "StateBucket", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket},
        {
            "Sid": "ReadWriteState" if write else "ReadState",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"] if write else "s3:GetObject",
            "Resource": f"{bucket}/stacks/{stack}/terraform.tfstate",
        },
        {
            "Sid": "StateLock",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": f"{bucket}/stacks/{stack}/terraform.tfstate.tflock",
        },
        {"Sid": "StateKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*"], "Resource": state_key_arn(synth)},
    ]


def test_each_environment_build_reaches_exactly_its_own_stacks_state(any_synth) -> None:
    """Plan builds read their state and take its lock; apply builds also write the state; nothing else."""
    policies = inline_policies(any_synth)
    for env in any_synth.project.environments:
        plan = on_state(any_synth, policies[f"devops/plan-build-role-{env.name}"])
        apply = on_state(any_synth, policies[f"devops/apply-build-role-{env.name}"])
        assert plan == expected_state_statements(any_synth, env.workload_stack, write=False), env.name
        assert apply == expected_state_statements(any_synth, env.workload_stack, write=True), env.name


@pytest.mark.parametrize("synth_name", ["example_synth", "token_synth"])
def test_pull_request_plans_read_every_workload_state_and_write_none(request: pytest.FixtureRequest, synth_name: str) -> None:
    synth = request.getfixturevalue(synth_name)
    bucket = state_bucket_arn(synth)
    assert on_state(synth, inline_policies(synth)[PR_PLAN_BUILD]) == [
        {"Sid": "StateBucket", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket},
        {"Sid": "ReadWorkloadState", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket}/stacks/workload-*/terraform.tfstate"},
        {"Sid": "StateKeyDecrypt", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": state_key_arn(synth)},
    ]


def test_the_drift_run_reads_every_workload_state_like_pull_request_plans(example_synth) -> None:
    policies = inline_policies(example_synth)
    assert on_state(example_synth, policies[DRIFT_BUILD]) == on_state(example_synth, policies[PR_PLAN_BUILD])


def test_the_devops_plan_reads_its_own_state_only_and_the_apply_writes_it(example_synth) -> None:
    bucket, key = state_bucket_arn(example_synth), state_key_arn(example_synth)
    devops_state = f"{bucket}/stacks/devops/terraform.tfstate"
    plan = on_state(example_synth, inline_policies(example_synth)[DEVOPS_PLAN_BUILD])
    assert [(s["Sid"], s["Resource"]) for s in plan] == [("StateBucket", bucket), ("ReadState", devops_state), ("StateKey", key)]
    apply = on_state(example_synth, inline_policies(example_synth)[DEVOPS_APPLY_BUILD])
    assert apply == expected_state_statements(example_synth, "devops", write=True)
    for role in (DEVOPS_PLAN_BUILD, DEVOPS_APPLY_BUILD):
        (other_states,) = [s for s in inline_policies(example_synth, "explicit-deny")[role] if s["Sid"] == "DenyOtherStacksState"]
        assert other_states["Resource"] == [f"{bucket}/stacks/workload-*/terraform.tfstate*", f"{bucket}/stacks/bootstrap-*"]


def test_the_devops_apply_changes_named_delivery_resources_and_never_the_self_update_roles(example_synth) -> None:
    policy = {s["Sid"]: s for s in inline_policies(example_synth)[DEVOPS_APPLY_BUILD]}
    assert policy["DeliveryRoles"]["Resource"] == "arn:aws:iam::111111111111:role/acme-platform-*"
    assert policy["RestartTheRelease"]["Resource"] == "arn:aws:codepipeline:eu-west-1:111111111111:acme-platform-delivery"
    assert policy["DeliveryKeys"]["Condition"] == {"StringEquals": {"aws:ResourceTag/Project": "acme-platform"}}
    assert not [s for s in policy.values() if any(a.startswith("sts:") for a in as_list(s["Action"]))], "it reaches no workload account"
    (own,) = [s for s in inline_policies(example_synth, "explicit-deny")[DEVOPS_APPLY_BUILD] if s["Sid"] == "DenyChangingTheSelfUpdateRoles"]
    assert own["Resource"] == [
        "arn:aws:iam::111111111111:role/acme-platform-devops-plan-build", "arn:aws:iam::111111111111:role/acme-platform-devops-apply-build",
    ]  # fmt: skip
    assert "iam:PutRolePolicy" in own["Action"] and "iam:PassRole" in own["Action"]


def test_no_other_role_touches_terraform_state(any_synth) -> None:
    readers = {PR_PLAN_BUILD, DRIFT_BUILD, DEVOPS_PLAN_BUILD, DEVOPS_APPLY_BUILD, *(f"devops/{kind}-build-role-{env.name}" for env in any_synth.project.environments for kind in ("plan", "apply"))}
    for role, policy in inline_policies(any_synth).items():
        if role not in readers:
            assert on_state(any_synth, policy) == [], f"{role} must not touch Terraform state"


def test_listing_the_state_bucket_carries_no_prefix_condition(any_synth) -> None:
    """S3 answers a GET of a missing object (a stack's first run) with 404 only to a caller that may list the
    bucket, and that check carries no s3:prefix: a prefix-conditioned listing makes the first plan fail with 403."""
    for role, policy in inline_policies(any_synth).items():
        for statement in policy:
            if "s3:ListBucket" in as_list(statement["Action"]) and statement["Resource"] == state_bucket_arn(any_synth):
                assert "Condition" not in statement, role


def test_an_environments_state_grants_match_no_other_stacks_state_key(any_synth) -> None:
    """fnmatch as IAM matches: dev's grants must not reach workload-dev2, workload-prod or any bootstrap stack."""
    bucket = state_bucket_arn(any_synth)
    keys = [f"{bucket}/stacks/{stack}/terraform.tfstate{suffix}" for stack in any_synth.stacks for suffix in ("", ".tflock")]
    keys += [f"{bucket}/stacks/workload-{env.name}2/terraform.tfstate" for env in any_synth.project.environments]
    for env in any_synth.project.environments:
        for kind in ("plan", "apply"):
            granted = [r for s in inline_policies(any_synth)[f"devops/{kind}-build-role-{env.name}"] for r in as_list(s["Resource"]) if r.startswith(f"{bucket}/")]
            reached = sorted({key for key in keys for pattern in granted if fnmatch.fnmatchcase(key, pattern)})
            own = f"{bucket}/stacks/{env.workload_stack}/terraform.tfstate"
            assert reached == [own, f"{own}.tflock"], (env.name, kind)


# --- trust -----------------------------------------------------------------------------------------
def test_devops_roles_trust_services_with_source_account_and_arn(any_synth) -> None:
    account = any_synth.project.devops.account_id
    for role in any_synth.stacks["devops"]["resource"]["aws_iam_role"].values():
        (trust,) = statements(role, "assume_role_policy")
        assert set(trust["Principal"]) == {"Service"}, role["name"]
        assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": account}, role["name"]
        assert trust["Condition"]["ArnLike"]["aws:SourceArn"], role["name"]
        assert not any("*" in arn.split(":")[4] for arn in trust["Condition"]["ArnLike"]["aws:SourceArn"])


def test_each_build_role_serves_exactly_its_own_project(any_synth) -> None:
    """A CodeBuild project can run as a role only if the role's trust names it: no project may run as another's role."""
    prefix = any_synth.project.devops.name_prefix
    trusted = {
        path_of(role).rsplit("/", 1)[0]: statements(role, "assume_role_policy")[0]["Condition"]["ArnLike"]["aws:SourceArn"]
        for role in any_synth.stacks["devops"]["resource"]["aws_iam_role"].values()
        if statements(role, "assume_role_policy")[0]["Principal"]["Service"] == "codebuild.amazonaws.com"
    }
    for env in any_synth.project.environments:
        assert trusted[f"devops/plan-build-role-{env.name}"] == [project_arn(any_synth.project, f"{prefix}-plan-{env.name}")]
        assert trusted[f"devops/apply-build-role-{env.name}"] == [project_arn(any_synth.project, f"{prefix}-apply-{env.name}")]
    assert trusted["devops/synth-build-role"] == [project_arn(any_synth.project, f"{prefix}-synth")]


def test_workload_role_trusts_use_principal_arn_not_service_conditions(any_synth) -> None:
    """aws:SourceArn/aws:SourceAccount exist only when a service calls; on a role-to-role assume they never match."""
    for env in any_synth.project.environments:
        found = any_synth.stacks[env.bootstrap_stack]["resource"]["aws_iam_role"]
        assert len(found) == 2, f"{env.name}: the deployment role and the plan role"
        for role in found.values():
            text = role["assume_role_policy"]
            assert "aws:SourceArn" not in text and "aws:SourceAccount" not in text, role["name"]
            assert "aws:PrincipalArn" in text, role["name"]


@pytest.mark.parametrize("synth_name", ["example_synth", "token_synth"])
def test_each_use_connection_action_is_granted_on_its_own_services_arn_format(request: pytest.FixtureRequest, synth_name: str) -> None:
    """codestar-connections:UseConnection on the codestar-connections ARN, codeconnections:UseConnection on the
    codeconnections ARN: the same connection, and an action matches only ARNs of its own service."""
    synth = request.getfixturevalue(synth_name)
    devops = synth.stacks["devops"]
    uses = {s["Action"]: s["Resource"] for s in inline_policies(synth)["devops/pipeline-role"] if str(s["Action"]).endswith(":UseConnection")}
    assert uses == {
        "codestar-connections:UseConnection": "${local.source_connection_codestar_arn}",
        "codeconnections:UseConnection": "${local.source_connection_codeconnections_arn}",
    }
    connection = "aws_codestarconnections_connection.source-connection.arn"
    assert devops["locals"] == {
        "source_connection_codestar_arn": f'${{replace({connection}, ":codeconnections:", ":codestar-connections:")}}',
        "source_connection_codeconnections_arn": f'${{replace({connection}, ":codestar-connections:", ":codeconnections:")}}',
    }


@pytest.mark.parametrize(
    "given",
    ["arn:aws:codestar-connections:eu-west-1:111111111111:connection/abc", "arn:aws:codeconnections:eu-west-1:111111111111:connection/abc"],
)
def test_a_configured_connection_arn_is_granted_in_both_formats(given: str) -> None:
    from provisioner.app.access import connection_arn_forms

    assert connection_arn_forms(given) == (
        "arn:aws:codestar-connections:eu-west-1:111111111111:connection/abc",
        "arn:aws:codeconnections:eu-west-1:111111111111:connection/abc",
    )


# --- GitHub token (a source with github_token_secret set) ----------------------------------------
def test_only_the_pr_comment_build_role_reads_the_github_token(token_synth) -> None:
    """The token lets a build comment on pull requests: only the comment build gets it, never the build that runs PR code."""
    secret = "arn:aws:secretsmanager:eu-west-1:555555555555:secret:tok/github-token-??????"
    policies = inline_policies(token_synth)
    assert PR_COMMENT_BUILD in policies and PR_PLAN_BUILD in policies
    for role, policy in policies.items():
        secrets = [s for s in policy if any(a.startswith("secretsmanager:") for a in as_list(s["Action"]))]
        if role == PR_COMMENT_BUILD:
            assert secrets == [{"Sid": "ReadPullRequestCommentToken", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret}]
        else:
            assert secrets == [], f"{role} must not read the GitHub token"


def test_pr_comment_build_role_reads_pr_artifacts_writes_its_logs_and_reads_the_token_only(token_synth) -> None:
    """No state, no role to assume, no release artifacts, no artifact writes: it only reads the summary and posts it."""
    pr_bucket = f"arn:aws:s3:::{token_synth.project.naming.pr_artifact_bucket}"
    key = ref("aws_kms_key", at_path(token_synth.stacks["devops"], "aws_kms_key", "devops/artifacts/key/key")[0], "arn")
    policy = inline_policies(token_synth)[PR_COMMENT_BUILD]
    # Its builds run in the VPC of devops.hcl: the network statements CodeBuild needs come before its logs'.
    assert [s["Sid"] for s in policy] == [
        "ArtifactBucket", "ArtifactObjects", "ArtifactKey", "ReadPullRequestCommentToken",
        VPC_DESCRIBE, "BuildNetworkInterface", "BuildNetworkInterfaceForCodeBuild", "OwnBuildLogs", "OwnBuildReports",
    ]  # fmt: skip
    by_sid = {s["Sid"]: s for s in policy}
    assert (by_sid["ArtifactBucket"]["Resource"], by_sid["ArtifactObjects"]["Resource"]) == (pr_bucket, f"{pr_bucket}/*")
    assert by_sid["ArtifactObjects"]["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert by_sid["ArtifactKey"]["Resource"] == key


# --- pull requests kept apart from releases -------------------------------------------------------
def bucket_arns(synth) -> tuple[str, str]:
    naming = synth.project.naming
    return f"arn:aws:s3:::{naming.artifact_bucket}", f"arn:aws:s3:::{naming.pr_artifact_bucket}"


def names_bucket(statement: dict, bucket: str) -> bool:
    return any(r == bucket or r.startswith(f"{bucket}/") for r in as_list(statement.get("Resource")))


def test_no_pull_request_role_has_any_statement_on_the_release_artifact_bucket(any_synth) -> None:
    release, pr = bucket_arns(any_synth)
    policies = inline_policies(any_synth)
    for role in pr_roles(any_synth):
        assert not [s["Sid"] for s in policies[role] if names_bucket(s, release)], role
        assert any_synth.project.naming.artifact_bucket not in json.dumps(policies[role]), f"{role}: not even by name or cache path"
        on_pr = [s["Sid"] for s in policies[role] if names_bucket(s, pr)]
        assert on_pr in (["ArtifactBucket", "ArtifactObjects"], ["ArtifactBucket", "ArtifactObjects", "ArtifactWrites"]), role


def test_no_release_role_has_any_statement_on_the_pull_request_bucket(any_synth) -> None:
    release, pr = bucket_arns(any_synth)
    policies = inline_policies(any_synth)
    for role in release_build_roles(any_synth):
        assert not [s["Sid"] for s in policies[role] if names_bucket(s, pr)], role
        assert any_synth.project.naming.pr_artifact_bucket not in json.dumps(policies[role]), role
        # Every release build keeps a cache of its own in the release bucket (CodeBuild writes it as the build's role).
        on_release = [s["Sid"] for s in policies[role] if names_bucket(s, release)]
        assert on_release in (
            ["ArtifactBucket", "ArtifactObjects", "OwnBuildCache"], ["ArtifactBucket", "ArtifactObjects", "ArtifactWrites", "OwnBuildCache"]
        ), role


def test_artifact_writes_stay_in_the_pipelines_folders_and_each_cache_is_its_own_builds(any_synth) -> None:
    """CodePipeline keeps a pipeline's artifacts under the first 20 characters of its name; the builds' caches
    sit beside them. Nobody may write the bucket at large, and a build may write no other build's cache (the
    providers a plan or apply build runs come from its cache)."""
    project, naming = any_synth.project, any_synth.project.naming
    release, pr = bucket_arns(any_synth)
    folders = {f"{release}/{artifact_prefix(name)}/*" for name in access.release_pipelines(project)} | {f"{pr}/{artifact_prefix(naming.pr_pipeline)}/*"}
    for role, policy in inline_policies(any_synth).items():
        for statement in policy:
            if "s3:PutObject" not in as_list(statement["Action"]):
                continue
            for resource in as_list(statement["Resource"]):
                assert resource not in (f"{release}/*", f"{pr}/*"), f"{role}: {statement['Sid']} writes the whole artifact bucket"
                if "/build-cache/" in resource:
                    project_name = resource.split("/build-cache/")[1].removesuffix("/*")
                    assert statement["Sid"] == "OwnBuildCache" and role.endswith(own_role_suffix(project, project_name)), f"{role} writes {project_name}'s cache"
                elif resource.startswith((release, pr)):
                    assert resource in folders, f"{role}: {statement['Sid']} writes {resource}"


def own_role_suffix(project, project_name: str) -> str:
    """The construct id of the build role of the CodeBuild project ``project_name``."""
    for step in [*release_steps(project), *([drift_step(project)] if project.devops.drift_schedule else [])]:
        if step.project_name(project.naming) == project_name:
            return step.role_id
    raise AssertionError(f"no release step builds {project_name}")


def test_apply_builds_read_artifacts_and_write_none(any_synth) -> None:
    """Apply has no output artifact: it cannot replace a saved plan that waits for approval."""
    release, _ = bucket_arns(any_synth)
    policies = inline_policies(any_synth)
    for env in any_synth.project.environments:
        applying = {s["Sid"]: s for s in policies[f"devops/apply-build-role-{env.name}"]}
        assert (applying["ArtifactObjects"]["Resource"], applying["ArtifactObjects"]["Action"]) == (f"{release}/*", ["s3:GetObject", "s3:GetObjectVersion"])
        assert "ArtifactWrites" not in applying
        (planned,) = [s for s in policies[f"devops/plan-build-role-{env.name}"] if s["Sid"] == "ArtifactWrites"]
        assert (planned["Action"], planned["Resource"]) == ("s3:PutObject", [f"{release}/{artifact_prefix(any_synth.project.naming.pipeline)}/*"])


def test_pipeline_role_reaches_both_artifact_buckets(any_synth) -> None:
    """CodePipeline moves artifacts of both pipelines: bucket and object access on each, nothing more."""
    release, pr = bucket_arns(any_synth)
    policy = inline_policies(any_synth)["devops/pipeline-role"]
    project = any_synth.project
    release_folders = sorted({f"{release}/{artifact_prefix(name)}/*" for name in access.release_pipelines(project)})
    for bucket, present, folders in ((release, True, release_folders), (pr, plans_pull_requests(project), [f"{pr}/{artifact_prefix(project.naming.pr_pipeline)}/*"])):
        on_bucket = [s for s in policy if names_bucket(s, bucket)]
        if not present:
            assert on_bucket == []
            continue
        assert [(s["Resource"], s["Action"]) for s in on_bucket] == [
            (bucket, ["s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:ListBucket"]),
            (f"{bucket}/*", ["s3:GetObject", "s3:GetObjectVersion"]),
            (folders, "s3:PutObject"),
        ]


def test_pipeline_role_starts_the_products_build_projects_and_no_others(any_synth) -> None:
    """Project patterns (a list of exact ARNs would outgrow IAM's quota): each built project matches, nothing else does."""
    project = any_synth.project
    prefix = project.devops.name_prefix
    (start,) = [s for s in inline_policies(any_synth)["devops/pipeline-role"] if "codebuild:StartBuild" in as_list(s["Action"])]
    patterns = [f"{prefix}-synth", *([f"{prefix}-devops-plan", f"{prefix}-devops-apply"] if project.devops.self_update else [])]
    patterns += [f"{prefix}-plan-*", f"{prefix}-apply-*", *([f"{prefix}-step-*"] if team_steps(project) else [])]
    patterns += [f"{prefix}-pr-*"] if plans_pull_requests(project) else []
    patterns += [f"{prefix}-drift-plan"] if project.devops.drift_schedule else []
    assert start["Resource"] == [project_arn(project, name) for name in patterns]
    built = [project_arn(project, p["name"]) for p in any_synth.stacks["devops"]["resource"]["aws_codebuild_project"].values()]
    for arn in built:
        assert any(fnmatch.fnmatchcase(arn, pattern) for pattern in start["Resource"]), arn
    for other in ("other-project", f"{prefix}x-plan-dev", f"{prefix}-synthesize", f"other-{prefix}-plan-dev"):
        assert not any(fnmatch.fnmatchcase(project_arn(project, other), pattern) for pattern in start["Resource"]), other


def test_pull_request_build_roles_hold_their_artifacts_logs_and_nothing_of_releases(example_synth) -> None:
    policies = inline_policies(example_synth)
    assert [s["Sid"] for s in policies[PR_SYNTH_BUILD]] == ["ArtifactBucket", "ArtifactObjects", "ArtifactWrites", "ArtifactKey", "OwnBuildLogs", "OwnBuildReports"]
    assert [s["Sid"] for s in policies[PR_PLAN_BUILD]] == [
        "ArtifactBucket", "ArtifactObjects", "ArtifactWrites", "ArtifactKey", "StateBucket", "ReadWorkloadState", "StateKeyDecrypt",
        "AssumeExactRoles", "OwnBuildLogs", "OwnBuildReports",
    ]  # fmt: skip


def test_pull_request_roles_write_only_pull_request_build_logs(example_synth) -> None:
    """A PR build must not be able to append lines to a release plan log that an approver reads."""
    devops = example_synth.project.devops
    release_group = f"arn:aws:logs:{devops.region}:{devops.account_id}:log-group:/aws/codebuild/{devops.name_prefix}-plan-prod:log-stream:x"
    for role in pr_roles(example_synth):
        (logs,) = [s for s in inline_policies(example_synth)[role] if "logs:PutLogEvents" in as_list(s["Action"])]
        assert not any(fnmatch.fnmatchcase(release_group, pattern) for pattern in as_list(logs["Resource"])), role


def test_workload_accounts_get_nothing_on_the_artifact_bucket_or_key(any_synth) -> None:
    """Saved plans hold prior state in clear text: no workload-account role may read them."""
    release, pr = bucket_arns(any_synth)
    for env in any_synth.project.environments:
        text = json.dumps(any_synth.stacks[env.bootstrap_stack])
        assert release not in text and pr not in text, env.name
    devops_keys = [(name, statement) for name, statement in key_policies(any_synth) if name.startswith("devops:")]
    for name, statement in resource_policies(any_synth) + devops_keys:
        principals = json.dumps(statement.get("Principal", {}))
        for env in any_synth.project.environments:
            assert env.account_id not in principals, f"{name}: {statement['Sid']}"


# --- builds in a VPC ----------------------------------------------------------------------------------
def test_every_build_role_may_place_its_build_in_its_own_subnets_only(token_synth) -> None:
    """What CodeBuild needs for a VPC build (AWS's CodeBuild VPC guide), interfaces created only in the build's subnets."""
    vpc = token_synth.project.devops.build.vpc
    arn = "arn:aws:ec2:eu-west-1:555555555555"
    for role, policy in inline_policies(token_synth).items():
        by = {s["Sid"]: s for s in policy}
        if "start-role" in role or role == "devops/pipeline-role":
            assert VPC_DESCRIBE not in by, role
            continue
        subnets = [f"{arn}:subnet/{s}" for s in (vpc.pull_request_subnet_ids if role.startswith("devops/pr-") else vpc.subnet_ids)]
        assert by[VPC_DESCRIBE]["Resource"] == "*"
        assert by["BuildNetworkInterface"]["Resource"] == [f"{arn}:network-interface/*", *subnets, f"{arn}:security-group/sg-0a1b2c3d4e5f60719"]
        assert by["BuildNetworkInterfaceForCodeBuild"] == {
            "Sid": "BuildNetworkInterfaceForCodeBuild",
            "Effect": "Allow",
            "Action": "ec2:CreateNetworkInterfacePermission",
            "Resource": f"{arn}:network-interface/*",
            "Condition": {"StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"}, "ArnEquals": {"ec2:Subnet": subnets}},
        }, role


def test_each_build_cache_is_its_projects_own(any_synth) -> None:
    """Terraform builds cache terraform and the providers under a prefix only their own role may write;
    pull-request plans keep no cache (a pull request could leave a provider for the next one's plan)."""
    devops = any_synth.stacks["devops"]["resource"]
    bucket = any_synth.project.naming.artifact_bucket
    role_by_ref = {ref("aws_iam_role", lid, "arn"): path_of(role).rsplit("/", 1)[0] for lid, role in devops["aws_iam_role"].items()}
    policies = inline_policies(any_synth)
    for project in devops["aws_codebuild_project"].values():
        role = role_by_ref[project["service_role"]]
        caches = [s for s in policies[role] if s["Sid"] == "OwnBuildCache"]
        if project["name"].endswith(("-pr-plan", "-pr-synth", "-pr-comment")) or "-step-" in project["name"]:
            assert "cache" not in project and not caches, project["name"]
            continue
        assert project["cache"] == {"type": "S3", "location": f"{bucket}/build-cache/{project['name']}"}, project["name"]
        assert caches == [{
            "Sid": "OwnBuildCache", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": f"arn:aws:s3:::{bucket}/build-cache/{project['name']}/*",
        }], project["name"]  # fmt: skip
