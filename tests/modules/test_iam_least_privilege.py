"""Least privilege across the devops stack: exact ARNs, no wildcards, state limited to workload stacks."""

from __future__ import annotations

import fnmatch
import json

from tests.modules.helpers import as_list, at_path, deployment_role_arn, ref, statements

ROLES = ("synth-build-role", "deploy-build-role", "pipeline-role")


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
    assert {f"devops/{role}" for role in ROLES} <= set(inline_policies(synth))


def test_only_the_deploy_build_role_assumes_roles_and_only_the_exact_deployment_roles(synth) -> None:
    expected = sorted(deployment_role_arn(env) for env in synth.project.environments)
    for role, policy in inline_policies(synth).items():
        assuming = [s for s in policy if any(a.startswith("sts:") for a in as_list(s["Action"]))]
        if role == "devops/deploy-build-role":
            assert assuming == [{"Sid": "AssumeExactDeploymentRoles", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": expected}]
        else:
            assert assuming == [], f"{role} must not assume any role"


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


def test_state_access_is_limited_to_workload_stacks_and_to_the_deploy_build_role(synth) -> None:
    devops = synth.stacks["devops"]
    state_bucket_id, _ = at_path(devops, "aws_s3_bucket", "devops/state-bucket/bucket")
    state_key_id, _ = at_path(devops, "aws_kms_key", "devops/state-key/key")
    bucket_arn = ref("aws_s3_bucket", state_bucket_id, "arn")
    key_arn = ref("aws_kms_key", state_key_id, "arn")
    for role, policy in inline_policies(synth).items():
        touching = [s for s in policy if any(r.startswith(bucket_arn) or r == key_arn for r in as_list(s["Resource"]))]
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
        (role,) = synth.stacks[env.bootstrap_stack]["resource"]["aws_iam_role"].values()
        text = role["assume_role_policy"]
        assert "aws:SourceArn" not in text and "aws:SourceAccount" not in text
        assert "aws:PrincipalArn" in text
