"""IAM policy documents as plain data, shared by the constructs.

Policies are built as dicts and rendered with ``json.dumps`` so that tests and policy checks read the
exact text AWS receives.

Cross-account principals: a resource or trust policy that names a role ARN as ``Principal`` is
rejected by AWS while that role does not exist yet. The statements here name the role's *account*
as principal and pin the exact role with an ``aws:PrincipalArn`` condition, which works in any order
of creation and grants no one else in that account.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Sequence

Statement = dict[str, Any]

PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
"""ARN partitions: ``aws-cn`` for the China regions, ``aws-us-gov`` for AWS GovCloud (US), ``aws`` elsewhere."""
_DNS_SUFFIXES = {"aws": "amazonaws.com", "aws-cn": "amazonaws.com.cn", "aws-us-gov": "amazonaws.com"}
_ROLE_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/.+$")


def partition_of(region: str) -> str:
    """The partition of ``region`` (``cn-north-1`` -> ``aws-cn``, ``us-gov-west-1`` -> ``aws-us-gov``)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def arn(partition: str, service: str, region: str, account: str, resource: str) -> str:
    """``arn:<partition>:<service>:<region>:<account>:<resource>``; region and account are empty for global resources."""
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


def check_partition(owner: str, partition: str, region: str | None = None) -> None:
    """ValueError naming ``owner`` (a props class) unless ``partition`` is a partition, and ``region``'s when given."""
    if partition not in PARTITIONS:
        raise ValueError(f'{owner}.partition "{partition}" must be one of {", ".join(PARTITIONS)}')
    if region is not None and partition_of(region) != partition:
        raise ValueError(f'{owner}.partition "{partition}" does not match region {region}: set partition="{partition_of(region)}"')


def regional_service_principal(service: str, region: str, partition: str) -> str:
    """A service principal that names the region, such as CloudWatch Logs' (``logs.<region>.amazonaws.com``;
    in China the partition's domain, ``amazonaws.com.cn``)."""
    return f"{service}.{region}.{_DNS_SUFFIXES[partition]}"


def policy_id(policy_arn: str) -> str:
    """A construct id part for a managed policy, from its name (and account, unless AWS's): reordering a
    list of policies must not move resource addresses."""
    account = policy_arn.split(":")[4]
    name = re.sub(r"[^A-Za-z0-9-]+", "-", policy_arn.split(":policy/", 1)[1]).strip("-")
    return name if account == "aws" else f"{account}-{name}"


def document(statements: Iterable[Statement]) -> str:
    """A policy document as compact, stable JSON."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, separators=(",", ":"))


def account_of(role_arn: str) -> tuple[str, str]:
    """(partition, account id) of an IAM role ARN; ValueError for anything else (a wildcard included)."""
    match = _ROLE_ARN.match(role_arn)
    if not match or "*" in role_arn or "?" in role_arn:
        raise ValueError(f'"{role_arn}" is not an exact IAM role ARN (arn:<partition>:iam::<12 digits>:role/<name>)')
    return match["partition"], match["account"]


def allow_roles(sid: str, role_arns: Sequence[str], actions: Sequence[str], resources: Sequence[str] | None) -> Statement:
    """Allow exactly ``role_arns``: their accounts as principals, pinned by ``aws:PrincipalArn``.

    ``resources`` is None in a resource policy that applies to itself (a KMS key policy uses ``*``).
    """
    if not role_arns:
        raise ValueError(f"statement {sid}: at least one role ARN is required")
    roots = sorted({"arn:{}:iam::{}:root".format(*account_of(arn)) for arn in role_arns})
    statement: Statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": roots if len(roots) > 1 else roots[0]},
        "Action": list(actions),
        "Resource": list(resources) if resources is not None else "*",
        "Condition": {"ArnEquals": {"aws:PrincipalArn": sorted(set(role_arns))}},
    }
    return statement


def trust_roles(sid: str, role_arns: Sequence[str], external_id: str | None = None) -> Statement:
    """A trust statement letting exactly ``role_arns`` assume the role (``allow_roles`` without a Resource),
    with ``sts:ExternalId`` required when ``external_id`` is set."""
    statement = allow_roles(sid, role_arns, ["sts:AssumeRole"], None)
    del statement["Resource"]  # trust policies have no Resource element
    if external_id:
        statement["Condition"]["StringEquals"] = {"sts:ExternalId": external_id}
    return statement


def trust_service(service: str, account_id: str, source_arns: Sequence[str]) -> Statement:
    """A trust statement for an AWS service acting for ``account_id``'s resources in ``source_arns`` only
    (confused-deputy protection: ``aws:SourceAccount`` and ``aws:SourceArn``)."""
    return {
        "Sid": "TrustServiceForThisAccountOnly",
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": list(source_arns)},
        },
    }


def deny_insecure_transport(bucket_arn: str) -> Statement:
    """Deny every S3 call made without TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def deny_unencrypted_puts(bucket_arn: str) -> Statement:
    """Deny object uploads that do not ask for SSE-KMS (a missing header is denied too)."""
    return {
        "Sid": "DenyUnencryptedObjectUploads",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": f"{bucket_arn}/*",
        "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}},
    }


KMS_USE_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*")
"""What a role needs to read and write data under a customer-managed key, across accounts too."""
