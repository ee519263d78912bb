"""Least privilege across the devops stack: exact ARNs, no wildcards, state limited to workload stacks."""

from __future__ import annotations

import fnmatch
import json

import pytest

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
)

ROLES = ("synth-build-role", "deploy-build-role", "pipeline-role")
RELEASE_BUILDS = ("devops/synth-build-role", "devops/deploy-build-role")
PR_SYNTH_BUILD = "devops/pr-synth-build-role"
PR_PLAN_BUILD = "devops/pr-plan-build-role"
PR_COMMENT_BUILD = "devops/pr-comment-build-role"


def roles(synth) -> list[str]:
    """Construct ids of the devops stack's roles with an inline policy; CodeStar sources add the pull-request builds."""
    return [*ROLES, *(f"{suffix}-role" for suffix in pr_role_suffixes(synth.project))]


def pr_roles(synth) -> list[str]:
    """Construct paths of the pull-request build roles (none without a CodeStar source)."""
    return [f"devops/{suffix}-role" for suffix in pr_role_suffixes(synth.project)]


@pytest.fixture(params=["repo_synth", "alt_synth", "token_synth"])
def any_synth(request: pytest.FixtureRequest):
    """The two projects, and the GitHub source with a token (which adds the comment build)."""
    return request.getfixturevalue(request.param)


def inline_policies(synth) -> dict[str, list[dict]]:
    """Construct path of each role -> statements of its inline policy (every role of the devops stack)."""
    return {
        policy["//"]["metadata"]["path"].rsplit("/", 1)[0]: statements(policy)
        for policy in synth.stacks["devops"]["resource"]["aws_iam_role_policy"].values()
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


def test_every_devops_role_has_an_inline_policy(synth) -> None:
    assert {f"devops/{role}" for role in roles(synth)} <= set(inline_policies(synth))


def test_only_the_build_roles_assume_roles_and_only_their_exact_workload_roles(synth) -> None:
    """The deploy build assumes exactly the deployment roles; the pull-request plan build exactly the plan roles."""
    project = synth.project
    expected = {
        "devops/deploy-build-role": sorted(deployment_role_arn(env) for env in project.environments),
        PR_PLAN_BUILD: sorted(plan_role_arn(project, env) for env in project.environments),
    }
    policies = inline_policies(synth)
    assert (PR_PLAN_BUILD in policies) == (project.devops.source.type == "codestar")
    for role, policy in policies.items():
        assuming = [s for s in policy if any(a.startswith("sts:") for a in as_list(s["Action"]))]
        if role in expected:
            assert assuming == [{"Sid": "AssumeExactDeploymentRoles", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": expected[role]}], role
        else:
            assert assuming == [], f"{role} must not assume any role"


def test_pr_plan_build_role_never_reaches_a_deployment_role(repo_synth) -> None:
    """Unreviewed code runs as this role: no deployment role ARN may appear anywhere in its policy."""
    deployers = {deployment_role_arn(env) for env in repo_synth.project.environments}
    policy = inline_policies(repo_synth)[PR_PLAN_BUILD]
    named = {resource for statement in policy for resource in as_list(statement["Resource"])}
    assert not named & deployers
    assert not any(fnmatch.fnmatchcase(d, r) for r in named for d in deployers), "no pattern may match a deployment role either"


def test_repo_pr_plan_build_role_assumes_dev_staging_and_prod_plan_roles(repo_synth) -> None:
    (assume,) = [s for s in inline_policies(repo_synth)[PR_PLAN_BUILD] if s["Sid"] == "AssumeExactDeploymentRoles"]
    assert assume["Resource"] == [
        "arn:aws:iam::222222222222:role/acme-platform-plan-dev",
        "arn:aws:iam::333333333333:role/acme-platform-plan-staging",
        "arn:aws:iam::444444444444:role/acme-platform-plan-prod",
    ]


def test_codecommit_source_has_no_pull_request_plan_build(alt_synth) -> None:
    devops = alt_synth.stacks["devops"]["resource"]
    assert not [r for r in devops["aws_iam_role"].values() if path_of(r).startswith(PR_PLAN_BUILD + "/") or r["name"] == "alt-pr-plan-build"]
    assert not [p for p in devops["aws_codebuild_project"].values() if p["name"] == "alt-pr-plan"]
    assert "alt-pr-plan-build" not in json.dumps(alt_synth.stacks["devops"]), "nothing may name a role that does not exist"
    # No pull-request pipeline at all: no PR roles, projects, bucket or pipeline.
    assert "alt-pr-" not in json.dumps(alt_synth.stacks["devops"])
    assert [p["name"] for p in devops["aws_codepipeline"].values()] == ["alt-delivery"]


def test_no_build_role_reads_a_github_token_when_no_secret_is_configured(synth) -> None:
    """Without github_token_secret there is no comment build, and no role may read any secret (neither source here sets one)."""
    assert synth.project.devops.github_token_secret is None
    for role, policy in inline_policies(synth).items():
        secrets = [s for s in policy if any(a.startswith("secretsmanager:") for a in as_list(s["Action"]))]
        assert secrets == [], role


def test_repo_deploy_build_role_assumes_dev_staging_and_prod_roles(repo_synth) -> None:
    (assume,) = [s for s in inline_policies(repo_synth)["devops/deploy-build-role"] if s["Sid"] == "AssumeExactDeploymentRoles"]
    assert assume["Resource"] == [
        "arn:aws:iam::222222222222:role/acme-platform-deploy-dev",
        "arn:aws:iam::333333333333:role/acme-platform-deploy-staging",
        "arn:aws:iam::444444444444:role/acme-platform-deploy-prod",
    ]


def test_no_identity_statement_allows_wildcard_actions_or_every_resource(synth) -> None:
    for role, policy in inline_policies(synth).items():
        for statement in policy:
            assert statement["Effect"] == "Allow", f"{role}: {statement['Sid']}"
            assert not any(is_wildcard_action(a) for a in as_list(statement["Action"])), f"{role}: {statement['Sid']}"
            assert "*" not in as_list(statement["Resource"]), f"{role}: {statement['Sid']}"
            assert "NotAction" not in statement and "NotResource" not in statement


def test_resource_policies_allow_no_anonymous_principal_and_no_wildcard(synth) -> None:
    for name, statement in resource_policies(synth):
        if statement["Effect"] == "Deny":
            continue
        assert statement["Principal"] != "*" and statement["Principal"] != {"AWS": "*"}, f"{name}: {statement['Sid']}"
        assert not any(is_wildcard_action(a) for a in as_list(statement["Action"])), f"{name}: {statement['Sid']}"
        assert "*" not in as_list(statement["Resource"]), f"{name}: {statement['Sid']}"


def test_only_the_key_policy_root_statement_allows_every_kms_action(synth) -> None:
    for name, statement in key_policies(synth):
        wildcard = any(is_wildcard_action(a) for a in as_list(statement["Action"]))
        if statement["Sid"] == "AccountRootFullControl":
            assert statement["Principal"]["AWS"].endswith(":root")
            continue
        assert not wildcard, f"{name}: {statement['Sid']}"
        assert statement["Principal"] != "*" and statement["Principal"].get("AWS") != "*", f"{name}: {statement['Sid']}"


def test_state_access_is_limited_to_workload_stacks_and_to_the_build_roles(synth) -> None:
    devops = synth.stacks["devops"]
    state_bucket_id, _ = at_path(devops, "aws_s3_bucket", "devops/state-bucket/bucket")
    state_key_id, _ = at_path(devops, "aws_kms_key", "devops/state-key/key")
    bucket_arn = ref("aws_s3_bucket", state_bucket_id, "arn")
    key_arn = ref("aws_kms_key", state_key_id, "arn")
    for role, policy in inline_policies(synth).items():
        touching = [s for s in policy if any(r.startswith(bucket_arn) or r == key_arn for r in as_list(s["Resource"]))]
        if role == PR_PLAN_BUILD:
            assert touching == read_only_state_statements(bucket_arn, key_arn)
            continue
        if role != "devops/deploy-build-role":
            assert touching == [], f"{role} must not touch Terraform state"
            continue
        by_sid = {s["Sid"]: s for s in touching}
        assert sorted(by_sid) == ["ListWorkloadState", "ReadWriteWorkloadStateAndLocks", "StateKey"]
        assert by_sid["ListWorkloadState"]["Action"] == "s3:ListBucket"
        assert by_sid["ListWorkloadState"]["Resource"] == bucket_arn
        assert by_sid["ListWorkloadState"]["Condition"] == {"StringLike": {"s3:prefix": ["stacks/workload-*"]}}
        assert by_sid["ReadWriteWorkloadStateAndLocks"]["Resource"] == f"{bucket_arn}/stacks/workload-*"
        assert set(by_sid["ReadWriteWorkloadStateAndLocks"]["Action"]) == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
        assert by_sid["StateKey"]["Resource"] == key_arn
        assert not any(is_wildcard_action(a) for a in by_sid["StateKey"]["Action"])


def read_only_state_statements(bucket_arn: str, key_arn: str) -> list[dict]:
    return [
        {
            "Sid": "ListWorkloadState",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": ["stacks/workload-*"]}},
        },
        {"Sid": "ReadWorkloadState", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket_arn}/stacks/workload-*"},
        {"Sid": "StateKeyDecrypt", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": key_arn},
    ]


def test_pr_plan_build_role_can_write_no_state(repo_synth) -> None:
    """Not the state, not a lock file, nothing encrypted with the state key: its plans run with -lock=false."""
    devops = repo_synth.stacks["devops"]
    bucket_arn = ref("aws_s3_bucket", at_path(devops, "aws_s3_bucket", "devops/state-bucket/bucket")[0], "arn")
    key_arn = ref("aws_kms_key", at_path(devops, "aws_kms_key", "devops/state-key/key")[0], "arn")
    on_state = [s for s in inline_policies(repo_synth)[PR_PLAN_BUILD] if any(r.startswith(bucket_arn) or r == key_arn for r in as_list(s["Resource"]))]
    actions = {a for s in on_state for a in as_list(s["Action"])}
    assert actions == {"s3:ListBucket", "s3:GetObject", "kms:Decrypt", "kms:DescribeKey"}
    for forbidden in ("s3:PutObject", "s3:DeleteObject", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKey*", "kms:ReEncrypt*"):
        assert not any(fnmatch.fnmatchcase(forbidden, a) for a in actions), forbidden


def test_workload_state_keys_fall_under_the_granted_prefix_and_others_do_not(synth) -> None:
    for stack_name, doc in synth.stacks.items():
        key = doc["terraform"]["backend"]["s3"]["key"]
        for suffix in ("", ".tflock"):
            granted = fnmatch.fnmatchcase(key + suffix, "stacks/workload-*")
            assert granted == stack_name.startswith("workload-"), f"{stack_name}: {key}{suffix}"


def test_devops_roles_trust_services_with_source_account_and_arn(synth) -> None:
    account = synth.project.devops.account_id
    for role in synth.stacks["devops"]["resource"]["aws_iam_role"].values():
        (trust,) = statements(role, "assume_role_policy")
        assert set(trust["Principal"]) == {"Service"}, role["name"]
        assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": account}, role["name"]
        assert trust["Condition"]["ArnLike"]["aws:SourceArn"], role["name"]
        assert not any("*" in arn.split(":")[4] for arn in trust["Condition"]["ArnLike"]["aws:SourceArn"])


def test_deployment_role_trusts_use_principal_arn_not_service_conditions(synth) -> None:
    """aws:SourceArn/aws:SourceAccount exist only when a service calls; on a role-to-role assume they never match."""
    for env in synth.project.environments:
        found = synth.stacks[env.bootstrap_stack]["resource"]["aws_iam_role"]
        assert len(found) == 2, f"{env.name}: the deployment role and the plan role"
        for role in found.values():
            text = role["assume_role_policy"]
            assert "aws:SourceArn" not in text and "aws:SourceAccount" not in text, role["name"]
            assert "aws:PrincipalArn" in text, role["name"]


# --- GitHub token (a source with github_token_secret set) ----------------------------------------
def test_only_the_pr_comment_build_role_reads_the_github_token(token_synth) -> None:
    """The token lets a build comment on pull requests: only the comment build gets it, never the build that runs PR code."""
    secret = "arn:aws:secretsmanager:eu-west-1:555555555555:secret:tok/github-token-??????"
    policies = inline_policies(token_synth)
    assert set(policies) == {f"devops/{role}" for role in roles(token_synth)}
    assert PR_COMMENT_BUILD in policies and PR_PLAN_BUILD in policies
    for role, policy in policies.items():
        secrets = [s for s in policy if any(a.startswith("secretsmanager:") for a in as_list(s["Action"]))]
        if role == PR_COMMENT_BUILD:
            assert secrets == [{"Sid": "ReadPullRequestCommentToken", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret}]
        else:
            assert secrets == [], f"{role} must not read the GitHub token"
    assert "secretsmanager" not in json.dumps(policies[PR_PLAN_BUILD])


def test_pr_comment_build_role_has_pr_artifacts_logs_and_the_token_only(token_synth) -> None:
    """No state, no role to assume, no release artifacts: it only reads the summary and posts it."""
    devops = token_synth.stacks["devops"]
    pr_bucket = ref("aws_s3_bucket", at_path(devops, "aws_s3_bucket", "devops/pr-artifacts/bucket")[0], "arn")
    key = ref("aws_kms_key", at_path(devops, "aws_kms_key", "devops/artifacts/key/key")[0], "arn")
    policy = inline_policies(token_synth)[PR_COMMENT_BUILD]
    assert [s["Sid"] for s in policy] == [
        "ArtifactBucket", "ArtifactObjects", "ArtifactKey", "OwnBuildLogs", "OwnBuildReports", "ReadPullRequestCommentToken",
    ]  # fmt: skip
    by_sid = {s["Sid"]: s for s in policy}
    assert by_sid["ArtifactBucket"]["Resource"] == pr_bucket
    assert by_sid["ArtifactObjects"]["Resource"] == f"{pr_bucket}/*"
    assert by_sid["ArtifactKey"]["Resource"] == key


def test_token_synth_pr_plan_build_role_still_assumes_only_plan_roles_and_reads_state_only(token_synth) -> None:
    devops = token_synth.stacks["devops"]
    bucket_arn = ref("aws_s3_bucket", at_path(devops, "aws_s3_bucket", "devops/state-bucket/bucket")[0], "arn")
    key_arn = ref("aws_kms_key", at_path(devops, "aws_kms_key", "devops/state-key/key")[0], "arn")
    policy = inline_policies(token_synth)[PR_PLAN_BUILD]
    (assume,) = [s for s in policy if "sts:AssumeRole" in as_list(s["Action"])]
    assert assume["Resource"] == ["arn:aws:iam::666666666666:role/tok-plan-dev"]
    on_state = [s for s in policy if any(r.startswith(bucket_arn) or r == key_arn for r in as_list(s["Resource"]))]
    assert on_state == read_only_state_statements(bucket_arn, key_arn)


# --- pull requests kept apart from releases -------------------------------------------------------
def bucket_refs(synth) -> tuple[set[str], set[str]]:
    """Every way a policy can name the release and the pull-request artifact buckets: ARN references and literal ARNs."""
    devops = synth.stacks["devops"]
    naming = synth.project.naming
    release_id, _ = at_path(devops, "aws_s3_bucket", "devops/artifacts/bucket/bucket")
    release = {ref("aws_s3_bucket", release_id, "arn"), ref("aws_s3_bucket", release_id, "bucket"), f"arn:aws:s3:::{naming.artifact_bucket}"}
    pr = {f"arn:aws:s3:::{naming.pr_artifact_bucket}"}
    if plans_pull_requests(synth.project):
        pr_id, _ = at_path(devops, "aws_s3_bucket", "devops/pr-artifacts/bucket")
        pr |= {ref("aws_s3_bucket", pr_id, "arn"), ref("aws_s3_bucket", pr_id, "bucket")}
    return release, pr


def names_any(statement: dict, names: set[str]) -> bool:
    return any(r == n or r.startswith(f"{n}/") for r in as_list(statement.get("Resource")) for n in names)


def test_no_pull_request_role_has_any_statement_on_the_release_artifact_bucket(any_synth) -> None:
    release, pr = bucket_refs(any_synth)
    policies = inline_policies(any_synth)
    assert set(pr_roles(any_synth)) <= set(policies)
    for role in pr_roles(any_synth):
        assert not [s["Sid"] for s in policies[role] if names_any(s, release)], role
        # Not even by name or cache path.
        assert any_synth.project.naming.artifact_bucket not in json.dumps(policies[role]), role
        on_pr = [s for s in policies[role] if names_any(s, pr)]
        assert {a for s in on_pr for a in as_list(s["Action"])} == {
            "s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:ListBucket", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject",
        }, role  # fmt: skip


def test_no_release_role_has_any_statement_on_the_pull_request_bucket(any_synth) -> None:
    release, pr = bucket_refs(any_synth)
    policies = inline_policies(any_synth)
    for role in RELEASE_BUILDS:
        assert not [s["Sid"] for s in policies[role] if names_any(s, pr)], role
        assert any_synth.project.naming.pr_artifact_bucket not in json.dumps(policies[role]), role
        assert [s["Sid"] for s in policies[role] if names_any(s, release)] == ["ArtifactBucket", "ArtifactObjects"], role


def test_pipeline_role_reaches_both_artifact_buckets(any_synth) -> None:
    """CodePipeline moves artifacts of both pipelines: bucket and object access on each, nothing more."""
    release, pr = bucket_refs(any_synth)
    policy = inline_policies(any_synth)["devops/pipeline-role"]
    expected = {
        "bucket": {"s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:ListBucket"},
        "objects": {"s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"},
    }
    for names, present in ((release, True), (pr, plans_pull_requests(any_synth.project))):
        on_bucket = [s for s in policy if names_any(s, names)]
        if not present:
            assert on_bucket == []
            continue
        assert len(on_bucket) == 2
        bucket_statement = next(s for s in on_bucket if not as_list(s["Resource"])[0].endswith("/*"))
        object_statement = next(s for s in on_bucket if as_list(s["Resource"])[0].endswith("/*"))
        assert set(as_list(bucket_statement["Action"])) == expected["bucket"]
        assert set(as_list(object_statement["Action"])) == expected["objects"]


def test_pipeline_role_starts_exactly_the_stacks_build_projects(any_synth) -> None:
    (start,) = [s for s in inline_policies(any_synth)["devops/pipeline-role"] if "codebuild:StartBuild" in as_list(s["Action"])]
    built = sorted(project_arn(any_synth.project, p["name"]) for p in any_synth.stacks["devops"]["resource"]["aws_codebuild_project"].values())
    assert start["Resource"] == built
    prefix = any_synth.project.devops.name_prefix
    assert any(arn.endswith(f":project/{prefix}-pr-plan") for arn in built) == plans_pull_requests(any_synth.project)


def test_pr_synth_build_role_has_pr_artifacts_and_logs_only(repo_synth) -> None:
    devops = repo_synth.stacks["devops"]
    pr_bucket = ref("aws_s3_bucket", at_path(devops, "aws_s3_bucket", "devops/pr-artifacts/bucket")[0], "arn")
    policy = inline_policies(repo_synth)[PR_SYNTH_BUILD]
    assert [s["Sid"] for s in policy] == ["ArtifactBucket", "ArtifactObjects", "ArtifactKey", "OwnBuildLogs", "OwnBuildReports"]
    assert policy[0]["Resource"] == pr_bucket and policy[1]["Resource"] == f"{pr_bucket}/*"


def test_pr_plan_build_role_has_pr_artifacts_logs_read_only_state_and_plan_roles_only(repo_synth) -> None:
    policy = inline_policies(repo_synth)[PR_PLAN_BUILD]
    assert [s["Sid"] for s in policy] == [
        "ArtifactBucket", "ArtifactObjects", "ArtifactKey", "OwnBuildLogs", "OwnBuildReports",
        "ListWorkloadState", "ReadWorkloadState", "StateKeyDecrypt", "AssumeExactDeploymentRoles",
    ]  # fmt: skip


def test_pull_request_roles_write_only_pull_request_build_logs(repo_synth) -> None:
    """A PR build must not be able to append lines to a release plan log that an approver reads."""
    devops = repo_synth.project.devops
    release_group = f"arn:aws:logs:{devops.region}:{devops.account_id}:log-group:/aws/codebuild/{devops.name_prefix}-plan-prod:log-stream:x"
    for role in pr_roles(repo_synth):
        (logs,) = [s for s in inline_policies(repo_synth)[role] if "logs:PutLogEvents" in as_list(s["Action"])]
        assert not any(fnmatch.fnmatchcase(release_group, pattern) for pattern in as_list(logs["Resource"])), role
