"""The project's own policy rules (``provisioner.policy_gate.rules``), each on a compliant and a
non-compliant hand-written stack shaped like a synthesized ``cdk.tf.json``."""

from __future__ import annotations

import json

import pytest

from provisioner.policy_gate import rules
from provisioner.policy_gate.rules import (
    BUCKET_HAS_POLICY,
    BUCKET_POLICY_DENIES_INSECURE_TRANSPORT,
    CODEBUILD_CMK,
    KMS_KEY_ROTATION,
    NO_WILDCARD_ADMIN,
    TRUST_PINNED,
    Rule,
    RuleResult,
)

DEVOPS = "111111111111"
PIPELINE_ROLE = f"arn:aws:iam::{DEVOPS}:role/acme-deploy-build"
KEY_ARN = f"arn:aws:kms:eu-west-1:{DEVOPS}:key/0a1b2c3d-1111-2222-3333-444455556666"


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def stack(resources: dict, **extra: dict) -> dict:
    return {"provider": {"aws": [{"region": "eu-west-1", "allowed_account_ids": [DEVOPS]}]}, "resource": resources, **extra}


def results(stack_json: dict, rule: Rule) -> dict[str, RuleResult]:
    found = [r for r in rules.check_stack(stack_json) if r.rule == rule]
    return {r.address: r for r in found}


def only(stack_json: dict, rule: Rule) -> RuleResult:
    found = results(stack_json, rule)
    assert len(found) == 1, found
    return next(iter(found.values()))


def role(trust: str) -> dict:
    return stack({"aws_iam_role": {"deployer": {"name": "deployer", "assume_role_policy": trust}}})


def trust(principal: object, condition: dict | None = None) -> str:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition is not None:
        statement["Condition"] = condition
    return doc(statement)


# -- PROV_1: deployment-role trust -------------------------------------------------------------------
def test_trust_pinned_by_principal_arn_condition_passes() -> None:
    result = only(role(trust({"AWS": f"arn:aws:iam::{DEVOPS}:root"}, {"ArnEquals": {"aws:PrincipalArn": [PIPELINE_ROLE]}})), TRUST_PINNED)
    assert result.passed and result.address == "aws_iam_role.deployer"


def test_trust_of_a_bare_account_fails() -> None:
    result = only(role(trust({"AWS": f"arn:aws:iam::{DEVOPS}:root"})), TRUST_PINNED)
    assert not result.passed
    assert "without an ArnEquals/ArnLike aws:PrincipalArn condition" in result.detail


@pytest.mark.parametrize(
    "principal",
    [{"AWS": PIPELINE_ROLE}, {"AWS": [PIPELINE_ROLE, f"arn:aws:iam::{DEVOPS}:role/path/operator"]}, {"AWS": "${aws_iam_role.deployer.arn}"}],
    ids=["role", "roles", "reference"],
)
def test_trust_naming_exact_roles_passes(principal: dict) -> None:
    assert only(role(trust(principal)), TRUST_PINNED).passed


@pytest.mark.parametrize(
    ("principal", "condition", "expected"),
    [
        ("*", {"ArnEquals": {"aws:PrincipalArn": [PIPELINE_ROLE]}}, 'trusts any AWS principal ("*")'),
        ({"AWS": "*"}, None, 'trusts any AWS principal ("*")'),
        ({"AWS": DEVOPS}, None, "without an ArnEquals/ArnLike"),
        ({"AWS": f"arn:aws:iam::{DEVOPS}:root"}, {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{DEVOPS}:role/*"}}, "not exact role ARNs"),
        ({"AWS": f"arn:aws:iam::{DEVOPS}:root"}, {"StringEquals": {"sts:ExternalId": "x"}}, "without an ArnEquals/ArnLike"),
        ({"AWS": f"arn:aws:iam::{DEVOPS}:user/alice"}, None, "without an ArnEquals/ArnLike"),
    ],
    ids=["star", "aws-star", "bare-account-id", "wildcard-pin", "external-id-only", "user"],
)
def test_trust_not_pinned_fails(principal: object, condition: dict | None, expected: str) -> None:
    result = only(role(trust(principal, condition)), TRUST_PINNED)
    assert not result.passed
    assert expected in result.detail


def test_trust_from_a_policy_document_data_source_is_read() -> None:
    def principals(type_: str, identifier: str) -> dict:
        return {"statement": [{"actions": ["sts:AssumeRole"], "principals": [{"type": type_, "identifiers": [identifier]}]}]}

    data = {"aws_iam_policy_document": {"anyone": principals("*", "*"), "pipeline": principals("AWS", PIPELINE_ROLE)}}
    found = results(
        stack(
            {
                "aws_iam_role": {
                    "open": {"assume_role_policy": "${data.aws_iam_policy_document.anyone.json}"},
                    "pinned": {"assume_role_policy": "${data.aws_iam_policy_document.pipeline.json}"},
                }
            },
            data=data,
        ),
        TRUST_PINNED,
    )
    assert {address: r.passed for address, r in found.items()} == {"aws_iam_role.open": False, "aws_iam_role.pinned": True}


def test_trust_of_services_only_is_not_this_rules_business() -> None:
    assert results(role(trust({"Service": "codebuild.amazonaws.com"})), TRUST_PINNED) == {}


# -- PROV_2: no * actions on * resources ---------------------------------------------------------------
def role_policy(*statements: dict) -> dict:
    return stack({"aws_iam_role_policy": {"policy": {"name": "p", "role": "${aws_iam_role.r.id}", "policy": doc(*statements)}}})


def test_scoped_statements_pass() -> None:
    assert only(
        role_policy(
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:*", "Resource": "${aws_s3_bucket.b.arn}/*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*"},
        ),
        NO_WILDCARD_ADMIN,
    ).passed


@pytest.mark.parametrize("action", ["*", "iam:*", ["s3:GetObject", "kms:*"]])
def test_wildcard_actions_on_every_resource_fail(action: object) -> None:
    result = only(role_policy({"Sid": "TooMuch", "Effect": "Allow", "Action": action, "Resource": ["*"]}), NO_WILDCARD_ADMIN)
    assert not result.passed
    assert 'statement "TooMuch" allows' in result.detail


def key_with_policy(*statements: dict) -> dict:
    return stack({"aws_kms_key": {"key": {"enable_key_rotation": True, "policy": doc(*statements)}}})


def test_key_policy_root_kms_star_is_allowed() -> None:
    root = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEVOPS}:root"}, "Action": "kms:*", "Resource": "*"}
    assert only(key_with_policy(root), NO_WILDCARD_ADMIN).passed


@pytest.mark.parametrize(
    "principal",
    [{"AWS": PIPELINE_ROLE}, {"AWS": "arn:aws:iam::999999999999:root"}, "*"],
    ids=["a-role", "another-account", "anyone"],
)
def test_key_policy_kms_star_to_anyone_but_its_account_root_fails(principal: object) -> None:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "kms:*", "Resource": "*"}
    assert not only(key_with_policy(statement), NO_WILDCARD_ADMIN).passed


def test_wildcards_in_bucket_topic_and_inline_policies_fail() -> None:
    star = {"Effect": "Allow", "Principal": {"AWS": PIPELINE_ROLE}, "Action": "*", "Resource": "*"}
    found = results(
        stack(
            {
                "aws_sns_topic_policy": {"topic": {"arn": "${aws_sns_topic.t.arn}", "policy": doc(star)}},
                "aws_iam_policy": {"managed": {"policy": doc({"Effect": "Allow", "Action": "*", "Resource": "*"})}},
                "aws_iam_role": {
                    "r": {
                        "assume_role_policy": trust({"Service": "codebuild.amazonaws.com"}),
                        "inline_policy": [{"name": "inline", "policy": doc({"Effect": "Allow", "Action": "ec2:*", "Resource": "*"})}],
                    }
                },
            }
        ),
        NO_WILDCARD_ADMIN,
    )
    assert {address: r.passed for address, r in found.items()} == {
        "aws_sns_topic_policy.topic": False,
        "aws_iam_policy.managed": False,
        "aws_iam_role.r": False,
    }
    assert found["aws_iam_role.r"].detail.startswith('inline policy "inline"')


def test_policy_document_data_source_is_read() -> None:
    data = {
        "aws_iam_policy_document": {
            "admin": {"statement": [{"effect": "Allow", "actions": ["*"], "resources": ["*"]}]},
            "scoped": {"statement": [{"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::b/*"]}]},
        }
    }
    found = results(
        stack(
            {
                "aws_iam_policy": {
                    "admin": {"policy": "${data.aws_iam_policy_document.admin.json}"},
                    "scoped": {"policy": "${data.aws_iam_policy_document.scoped.json}"},
                }
            },
            data=data,
        ),
        NO_WILDCARD_ADMIN,
    )
    assert {address: r.passed for address, r in found.items()} == {"aws_iam_policy.admin": False, "aws_iam_policy.scoped": True}


def test_unreadable_policy_fails_closed() -> None:
    result = only(stack({"aws_iam_policy": {"p": {"policy": '${jsonencode({"Statement": []})}'}}}), NO_WILDCARD_ADMIN)
    assert not result.passed
    assert "not a JSON document the gate can read" in result.detail


# -- PROV_3, PROV_4: bucket policies -----------------------------------------------------------------
BUCKET_ARN = "${aws_s3_bucket.data.arn}"
DENY_INSECURE = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [BUCKET_ARN, f"{BUCKET_ARN}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def bucket_stack(*statements: dict, bucket_argument: str = "${aws_s3_bucket.data.id}") -> dict:
    return stack(
        {
            "aws_s3_bucket": {"data": {"bucket": "acme-data"}},
            "aws_s3_bucket_policy": {"data-policy": {"bucket": bucket_argument, "policy": doc(*statements)}},
        }
    )


def test_bucket_policy_denying_insecure_transport_passes() -> None:
    assert only(bucket_stack(DENY_INSECURE), BUCKET_POLICY_DENIES_INSECURE_TRANSPORT).passed


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
def test_bucket_policy_by_literal_name_and_arn_passes(partition: str) -> None:
    literal = {
        **DENY_INSECURE,
        "Resource": [f"arn:{partition}:s3:::acme-data", f"arn:{partition}:s3:::acme-data/*"],
        "Condition": {"Bool": {"aws:SecureTransport": False}},
    }
    found = rules.check_stack(bucket_stack(literal, bucket_argument="acme-data"))
    assert all(r.passed for r in found if r.rule in (BUCKET_POLICY_DENIES_INSECURE_TRANSPORT, BUCKET_HAS_POLICY))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"Effect": "Allow"}, "no statement denies"),
        ({"Action": "s3:GetObject"}, "no statement denies"),
        ({"Principal": {"AWS": PIPELINE_ROLE}}, "no statement denies"),
        ({"Condition": {"Bool": {"aws:SecureTransport": "true"}}}, "no statement denies"),
        ({"Resource": f"{BUCKET_ARN}/*"}, "does not cover the bucket"),
        ({"Resource": BUCKET_ARN}, "does not cover its objects"),
        ({"Resource": ["${aws_s3_bucket.other.arn}", "${aws_s3_bucket.other.arn}/*"]}, "does not cover the bucket or its objects"),
    ],
    ids=["allow", "one-action", "one-principal", "tls-true", "objects-only", "bucket-only", "other-bucket"],
)
def test_bucket_policy_without_full_tls_deny_fails(change: dict, expected: str) -> None:
    result = only(bucket_stack({**DENY_INSECURE, **change}), BUCKET_POLICY_DENIES_INSECURE_TRANSPORT)
    assert not result.passed
    assert expected in result.detail


def test_every_bucket_needs_a_policy() -> None:
    found = results(
        stack(
            {
                "aws_s3_bucket": {"with-policy": {"bucket": "a"}, "by-name": {"bucket": "b"}, "without": {"bucket": "c"}},
                "aws_s3_bucket_policy": {
                    "p1": {"bucket": "${aws_s3_bucket.with-policy.id}", "policy": doc(DENY_INSECURE)},
                    "p2": {"bucket": "b", "policy": doc(DENY_INSECURE)},
                },
            }
        ),
        BUCKET_HAS_POLICY,
    )
    assert {address: r.passed for address, r in found.items()} == {
        "aws_s3_bucket.by-name": True,
        "aws_s3_bucket.with-policy": True,
        "aws_s3_bucket.without": False,
    }
    assert found["aws_s3_bucket.without"].detail == "no aws_s3_bucket_policy names this bucket"


# -- PROV_5: key rotation ------------------------------------------------------------------------------
@pytest.mark.parametrize(("rotation", "passed"), [(True, True), ("true", True), (False, False), (None, False)])
def test_key_rotation(rotation: object, passed: bool) -> None:
    key = {"description": "k"} if rotation is None else {"enable_key_rotation": rotation}
    result = only(stack({"aws_kms_key": {"key": key}}), KMS_KEY_ROTATION)
    assert result.passed is passed
    assert result.detail == ("" if passed else "enable_key_rotation is not true")


def test_asymmetric_keys_cannot_rotate_so_are_not_checked() -> None:
    assert results(stack({"aws_kms_key": {"signing": {"customer_master_key_spec": "RSA_2048"}}}), KMS_KEY_ROTATION) == {}


# -- PROV_6: CodeBuild encryption key -------------------------------------------------------------------
@pytest.mark.parametrize("key", [KEY_ARN, "${aws_kms_key.artifacts.arn}", "${data.aws_kms_key.shared.arn}"])
def test_codebuild_with_a_key_arn_passes(key: str) -> None:
    assert only(stack({"aws_codebuild_project": {"build": {"encryption_key": key}}}), CODEBUILD_CMK).passed


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (None, "encryption_key is not set"),
        ("", "encryption_key is not set"),
        ("alias/aws/s3", "AWS-managed S3 key"),
        (f"arn:aws:kms:eu-west-1:{DEVOPS}:alias/aws/s3", "AWS-managed S3 key"),
        ("alias/pipeline", "is an alias"),
        ("${aws_kms_key.artifacts.key_id}", "is not the ARN of an aws_kms_key"),
        ("${aws_kms_alias.artifacts.arn}", "is not the ARN of an aws_kms_key"),
    ],
    ids=["missing", "empty", "aws-s3", "aws-s3-arn", "alias", "key-id", "alias-arn"],
)
def test_codebuild_without_a_key_arn_fails(key: str | None, expected: str) -> None:
    project = {"name": "build"} if key is None else {"encryption_key": key}
    result = only(stack({"aws_codebuild_project": {"build": project}}), CODEBUILD_CMK)
    assert not result.passed
    assert expected in result.detail
