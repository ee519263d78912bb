"""``modules.artifact_store.ArtifactStore``: the pipeline key and bucket every account's roles share."""

from __future__ import annotations

from tests.modules.helpers import (
    KMS_USE_ACTIONS,
    as_list,
    at_path,
    by_sid,
    deployment_role_arn,
    pipeline_role_arns,
    plan_role_arn,
    plans_pull_requests,
    pr_role_arns,
    ref,
    root_arn,
    statements,
)

ARTIFACT_KEY = "devops/artifacts/key/key"
ARTIFACT_BUCKET_POLICY = "devops/artifacts/bucket/policy"


def key_policy(synth) -> dict[str, dict]:
    return by_sid(at_path(synth.stacks["devops"], "aws_kms_key", ARTIFACT_KEY)[1])


def test_key_users_are_every_deployment_role_and_the_pipeline_roles(synth) -> None:
    """Release roles, deployment roles and (CodeStar) the pull-request build roles, whose own bucket uses this key too."""
    project = synth.project
    users = key_policy(synth)["AllowUseByRoles"]
    expected_roles = sorted(
        [*(deployment_role_arn(env) for env in project.environments), *pipeline_role_arns(project), *pr_role_arns(project)]
    )
    assert bool(pr_role_arns(project)) == plans_pull_requests(project)
    assert users["Condition"] == {"ArnEquals": {"aws:PrincipalArn": expected_roles}}
    expected_accounts = {project.devops.account_id, *(env.account_id for env in project.environments)}
    assert users["Principal"] == {"AWS": sorted(root_arn(account) for account in expected_accounts)}
    assert users["Effect"] == "Allow"
    assert users["Resource"] == "*"


def test_repo_key_users_are_written_out(repo_synth) -> None:
    roles = key_policy(repo_synth)["AllowUseByRoles"]["Condition"]["ArnEquals"]["aws:PrincipalArn"]
    assert roles == [
        "arn:aws:iam::111111111111:role/acme-platform-codepipeline",
        "arn:aws:iam::111111111111:role/acme-platform-deploy-build",
        "arn:aws:iam::111111111111:role/acme-platform-pr-plan-build",
        "arn:aws:iam::111111111111:role/acme-platform-pr-synth-build",
        "arn:aws:iam::111111111111:role/acme-platform-synth-build",
        "arn:aws:iam::222222222222:role/acme-platform-deploy-dev",
        "arn:aws:iam::333333333333:role/acme-platform-deploy-staging",
        "arn:aws:iam::444444444444:role/acme-platform-deploy-prod",
    ]


def test_key_users_get_exactly_the_five_cross_account_actions(synth) -> None:
    """ADF v4 broke cross-account artifacts by dropping some of these (awslabs/aws-deployment-framework#756)."""
    actions = key_policy(synth)["AllowUseByRoles"]["Action"]
    assert sorted(actions) == sorted(KMS_USE_ACTIONS)
    assert len(actions) == len(KMS_USE_ACTIONS)


def test_cloudwatch_logs_may_use_the_key_only_for_the_build_log_groups(synth) -> None:
    devops = synth.project.devops
    logs = key_policy(synth)["AllowCloudWatchLogsForBuildLogGroups"]
    assert logs["Principal"] == {"Service": f"logs.{devops.region}.amazonaws.com"}
    assert logs["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{devops.region}:{devops.account_id}:log-group:/aws/codebuild/{devops.name_prefix}-*"
        }
    }
    assert all(action.startswith("kms:") and action != "kms:*" for action in logs["Action"])


def test_every_build_log_group_falls_under_the_logs_condition(synth) -> None:
    devops = synth.project.devops
    allowed_prefix = key_policy(synth)["AllowCloudWatchLogsForBuildLogGroups"]["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert allowed_prefix.endswith("*")
    for group in synth.stacks["devops"]["resource"]["aws_cloudwatch_log_group"].values():
        arn = f"arn:aws:logs:{devops.region}:{devops.account_id}:log-group:{group['name']}"
        assert arn.startswith(allowed_prefix[:-1]), group["name"]


def test_events_and_alarms_may_encrypt_notifications(synth) -> None:
    statement = key_policy(synth)["AllowEventsAndAlarmsToPublishEncryptedNotifications"]
    assert statement["Principal"] == {"Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com"]}
    assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]


def test_key_policy_has_no_other_statement(synth) -> None:
    assert list(key_policy(synth)) == [
        "AccountRootFullControl",
        "AllowUseByRoles",
        "AllowCloudWatchLogsForBuildLogGroups",
        "AllowEventsAndAlarmsToPublishEncryptedNotifications",
    ]


def test_pipeline_builds_and_topic_use_the_artifact_key_by_arn(synth) -> None:
    devops = synth.stacks["devops"]
    key_arn = ref("aws_kms_key", at_path(devops, "aws_kms_key", ARTIFACT_KEY)[0], "arn")
    for pipeline in devops["resource"]["aws_codepipeline"].values():
        assert [store["encryption_key"] for store in pipeline["artifact_store"]] == [{"id": key_arn, "type": "KMS"}], pipeline["name"]
    assert {p["encryption_key"] for p in devops["resource"]["aws_codebuild_project"].values()} == {key_arn}
    assert {g["kms_key_id"] for g in devops["resource"]["aws_cloudwatch_log_group"].values()} == {key_arn}
    assert {t["kms_master_key_id"] for t in devops["resource"]["aws_sns_topic"].values()} == {key_arn}


def test_bucket_policy_lets_deployment_roles_only_read(synth) -> None:
    deployers = {deployment_role_arn(env) for env in synth.project.environments}
    policy = at_path(synth.stacks["devops"], "aws_s3_bucket_policy", ARTIFACT_BUCKET_POLICY)[1]
    granted_to_deployers = set()
    for statement in statements(policy):
        roles = set(statement.get("Condition", {}).get("ArnEquals", {}).get("aws:PrincipalArn", []))
        if statement["Effect"] == "Allow" and roles & deployers:
            assert roles <= deployers, f"{statement['Sid']} mixes deployment roles with pipeline roles"
            granted_to_deployers.update(as_list(statement["Action"]))
    assert granted_to_deployers == {"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketVersioning"}


def test_no_resource_policy_names_an_account_without_a_principal_arn_condition(synth) -> None:
    """An account root as principal is a grant to the whole account unless aws:PrincipalArn pins the role."""
    devops = synth.stacks["devops"]
    # Every bucket policy: the release and pull-request artifact buckets and the state bucket.
    policies = [bucket["policy"] for bucket in devops["resource"]["aws_s3_bucket_policy"].values()]
    assert len(policies) == (3 if plans_pull_requests(synth.project) else 2)
    policies += [key["policy"] for key in devops["resource"]["aws_kms_key"].values()]
    for text in policies:
        for statement in statements({"policy": text}):
            principal = statement.get("Principal")
            principals = as_list(principal.get("AWS")) if isinstance(principal, dict) else []
            if statement["Effect"] != "Allow" or not principals or statement["Sid"] == "AccountRootFullControl":
                continue
            pinned = statement["Condition"]["ArnEquals"]["aws:PrincipalArn"]
            assert pinned and not any("*" in arn for arn in pinned), statement["Sid"]
            pinned_accounts = {arn.split(":")[4] for arn in pinned}
            assert {p.split(":")[4] for p in principals} == pinned_accounts, statement["Sid"]


def test_plan_roles_get_no_artifact_access(synth) -> None:
    """Plans of pull requests read state through the pr-plan build; the workload-account plan roles never touch artifacts."""
    devops = synth.stacks["devops"]
    policies = [at_path(devops, "aws_s3_bucket_policy", ARTIFACT_BUCKET_POLICY)[1]["policy"], at_path(devops, "aws_kms_key", ARTIFACT_KEY)[1]["policy"]]
    for env in synth.project.environments:
        assert all(plan_role_arn(synth.project, env) not in text for text in policies), env.name


def test_token_source_key_users_include_the_comment_build(token_synth) -> None:
    roles = key_policy(token_synth)["AllowUseByRoles"]["Condition"]["ArnEquals"]["aws:PrincipalArn"]
    assert roles == [
        "arn:aws:iam::555555555555:role/tok-codepipeline",
        "arn:aws:iam::555555555555:role/tok-deploy-build",
        "arn:aws:iam::555555555555:role/tok-pr-comment-build",
        "arn:aws:iam::555555555555:role/tok-pr-plan-build",
        "arn:aws:iam::555555555555:role/tok-pr-synth-build",
        "arn:aws:iam::555555555555:role/tok-synth-build",
        "arn:aws:iam::666666666666:role/tok-deploy-dev",
    ]


def test_pull_request_roles_use_the_key_but_get_nothing_on_the_release_bucket(synth) -> None:
    """Key users only: unreviewed code must not read or overwrite release artifacts (saved plans awaiting approval)."""
    devops = synth.stacks["devops"]
    release_policy = at_path(devops, "aws_s3_bucket_policy", ARTIFACT_BUCKET_POLICY)[1]["policy"]
    key_users = key_policy(synth)["AllowUseByRoles"]["Condition"]["ArnEquals"]["aws:PrincipalArn"]
    for arn in pr_role_arns(synth.project):
        assert arn in key_users, arn
        assert arn not in release_policy, arn
        assert arn.rsplit("/", 1)[1] not in release_policy, arn
    if plans_pull_requests(synth.project):
        assert "-pr-" not in release_policy
