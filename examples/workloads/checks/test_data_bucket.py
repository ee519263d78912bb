"""The sample's post-deploy check finds what it promises to find, on an in-process emulated S3."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from examples.workloads.checks.data_bucket import declared_buckets, problems_of

REGION = "eu-west-1"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        yield client


def bucket(s3, name: str, *, kms: bool, versioned: bool) -> str:
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    if kms:
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]},
        )
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def test_an_encrypted_versioned_bucket_passes(s3) -> None:
    assert problems_of(s3, bucket(s3, "good-bucket", kms=True, versioned=True)) == []


def test_each_missing_property_is_named(s3) -> None:
    encryption, versioning = problems_of(s3, bucket(s3, "plain-bucket", kms=False, versioned=False))
    # Real S3 encrypts new buckets with AES256 by default; the emulator reports no configuration.
    assert encryption.startswith("plain-bucket: default encryption is not KMS (")
    assert versioning == "plain-bucket: versioning is never enabled, not Enabled"


def test_suspended_versioning_fails(s3) -> None:
    name = bucket(s3, "suspended-bucket", kms=True, versioned=True)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    assert problems_of(s3, name) == ["suspended-bucket: versioning is Suspended, not Enabled"]


def test_a_missing_bucket_is_reported(s3) -> None:
    (problem,) = problems_of(s3, "absent-bucket")
    assert problem.startswith("absent-bucket: does not exist or cannot be read (404")


def test_buckets_with_computed_names_are_left_out(tmp_path: Path) -> None:
    stack = tmp_path / "cdk.tf.json"
    stack.write_text(json.dumps({"resource": {"aws_s3_bucket": {"a": {"bucket": "fixed-name"}, "b": {"bucket": "${var.name}"}, "c": {}}}}))
    assert declared_buckets(stack) == ["fixed-name"]
