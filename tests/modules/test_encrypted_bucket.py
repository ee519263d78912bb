"""``modules.encrypted_bucket.EncryptedBucket``: SSE-KMS, versioning, no public access, TLS-only policy."""

from __future__ import annotations

import pytest

from modules.encrypted_bucket import EncryptedBucketProps
from tests.modules.helpers import (
    READER_A,
    READER_B,
    REFERENCE,
    at_path,
    by_sid,
    path_of,
    plans_pull_requests,
    ref,
    statements,
    where,
)

PARTS = (
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_policy",
)
READ_ACTIONS = {"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketVersioning"}


def parts(stack: dict, bucket_id: str) -> dict[str, tuple[str, dict]]:
    """Every resource that configures the bucket ``bucket_id``: exactly one of each kind."""
    found = {}
    for resource_type in PARTS:
        matches = [
            (lid, r) for lid, r in stack["resource"].get(resource_type, {}).items() if r["bucket"] == ref("aws_s3_bucket", bucket_id, "id")
        ]
        assert len(matches) == 1, f"{bucket_id}: expected one {resource_type}, found {len(matches)}"
        found[resource_type] = matches[0]
    return found


def buckets(synth) -> list[tuple[str, str, dict]]:
    """(stack, bucket logical id, parts) of every bucket of the project."""
    found = []
    for stack_name, stack in synth.stacks.items():
        for lid in stack.get("resource", {}).get("aws_s3_bucket", {}):
            found.append((stack_name, lid, parts(stack, lid)))
    # State and release artifacts; pull-request artifacts for CodeStar sources; one data bucket per environment.
    assert len(found) == 2 + plans_pull_requests(synth.project) + len(synth.project.environments)
    return found


ARTIFACT_BUCKET = "devops/artifacts/bucket/bucket"
PR_ARTIFACT_BUCKET = "devops/pr-artifacts/bucket"
STATE_BUCKET = "devops/state-bucket/bucket"


def bucket_policy(stack: dict, bucket_path: str) -> dict:
    bucket_id, _ = at_path(stack, "aws_s3_bucket", bucket_path)
    return parts(stack, bucket_id)["aws_s3_bucket_policy"][1]


def test_default_encryption_is_sse_kms_with_a_key_arn_and_a_bucket_key(synth) -> None:
    for stack_name, lid, found in buckets(synth):
        (rule,) = found["aws_s3_bucket_server_side_encryption_configuration"][1]["rule"]
        default = rule["apply_server_side_encryption_by_default"]
        assert default["sse_algorithm"] == "aws:kms"
        key = REFERENCE.match(default["kms_master_key_id"])
        assert key and key["type"] == "aws_kms_key" and key["attr"] == "arn", f"{stack_name}/{lid}: {default}"
        assert key["id"] in synth.stacks[stack_name]["resource"]["aws_kms_key"]
        assert rule["bucket_key_enabled"] is True


@pytest.mark.parametrize(
    ("bucket_path", "key_path"),
    [(ARTIFACT_BUCKET, "devops/artifacts/key/key"), (PR_ARTIFACT_BUCKET, "devops/artifacts/key/key"), (STATE_BUCKET, "devops/state-key/key")],
)
def test_devops_buckets_use_their_own_keys(example_synth, bucket_path: str, key_path: str) -> None:
    devops = example_synth.stacks["devops"]
    bucket_id, _ = at_path(devops, "aws_s3_bucket", bucket_path)
    key_id, _ = at_path(devops, "aws_kms_key", key_path)
    (rule,) = parts(devops, bucket_id)["aws_s3_bucket_server_side_encryption_configuration"][1]["rule"]
    assert rule["apply_server_side_encryption_by_default"]["kms_master_key_id"] == ref("aws_kms_key", key_id, "arn")


def test_versioning_ownership_and_all_four_public_access_blocks(synth) -> None:
    for stack_name, lid, found in buckets(synth):
        assert found["aws_s3_bucket_versioning"][1]["versioning_configuration"] == {"status": "Enabled"}
        assert found["aws_s3_bucket_ownership_controls"][1]["rule"] == {"object_ownership": "BucketOwnerEnforced"}
        block = found["aws_s3_bucket_public_access_block"][1]
        for setting in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
            assert block[setting] is True, f"{stack_name}/{lid}: {setting}"


def test_lifecycle_expires_noncurrent_versions_and_aborts_incomplete_uploads(example_synth) -> None:
    expected_days = {ARTIFACT_BUCKET: 30, PR_ARTIFACT_BUCKET: 7, STATE_BUCKET: 365}
    for env in example_synth.project.environments:
        expected_days[f"{env.workload_stack}/data-bucket/bucket"] = env.inputs["data_noncurrent_version_days"]
    for stack_name, lid, found in buckets(example_synth):
        path = path_of(example_synth.stacks[stack_name]["resource"]["aws_s3_bucket"][lid])
        (rule,) = found["aws_s3_bucket_lifecycle_configuration"][1]["rule"]
        assert rule["status"] == "Enabled"
        assert rule["filter"] == [{"prefix": ""}], "the rule must cover every object"
        assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": expected_days[path]}], path
        assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}], path


def test_artifacts_expire_and_state_never_does(example_synth) -> None:
    """Saved plans must not pile up forever in the artifact buckets; state and workload data never expire."""
    expires = {ARTIFACT_BUCKET: [{"days": 30}], PR_ARTIFACT_BUCKET: [{"days": 14}]}
    seen = set()
    for stack_name, lid, found in buckets(example_synth):
        path = path_of(example_synth.stacks[stack_name]["resource"]["aws_s3_bucket"][lid])
        (rule,) = found["aws_s3_bucket_lifecycle_configuration"][1]["rule"]
        assert rule.get("expiration") == expires.get(path), path
        seen.add(path)
    assert {ARTIFACT_BUCKET, PR_ARTIFACT_BUCKET, STATE_BUCKET} <= seen


def test_lifecycle_days_and_force_destroy_come_from_the_props(examples) -> None:
    bucket_id, bucket = where(examples, "aws_s3_bucket", bucket="example-reports")
    assert bucket["force_destroy"] is True
    (rule,) = parts(examples, bucket_id)["aws_s3_bucket_lifecycle_configuration"][1]["rule"]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 45}]
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 3}]


def test_product_buckets_are_never_force_destroyed(synth) -> None:
    for stack_name, lid, _ in buckets(synth):
        assert synth.stacks[stack_name]["resource"]["aws_s3_bucket"][lid]["force_destroy"] is False


def test_policy_denies_non_tls_access_to_bucket_and_objects(synth) -> None:
    for stack_name, lid, found in buckets(synth):
        arn = ref("aws_s3_bucket", lid, "arn")
        assert by_sid(found["aws_s3_bucket_policy"][1])["DenyInsecureTransport"] == {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }, f"{stack_name}/{lid}"


def test_policy_denies_uploads_that_do_not_ask_for_sse_kms(synth) -> None:
    checked = 0
    for stack_name, lid, found in buckets(synth):
        if path_of(synth.stacks[stack_name]["resource"]["aws_s3_bucket"][lid]) == STATE_BUCKET:
            continue
        arn = ref("aws_s3_bucket", lid, "arn")
        assert by_sid(found["aws_s3_bucket_policy"][1])["DenyUnencryptedObjectUploads"] == {
            "Sid": "DenyUnencryptedObjectUploads",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"{arn}/*",
            "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}},
        }, f"{stack_name}/{lid}"
        checked += 1
    assert checked == 1 + plans_pull_requests(synth.project) + len(synth.project.environments)


def test_state_bucket_does_not_deny_unencrypted_puts_and_grants_nobody(synth) -> None:
    """Terraform's S3 lock file is written without an encryption header (default SSE-KMS encrypts it)."""
    assert [s["Sid"] for s in statements(bucket_policy(synth.stacks["devops"], STATE_BUCKET))] == ["DenyInsecureTransport"]


@pytest.mark.parametrize("bucket", [ARTIFACT_BUCKET, PR_ARTIFACT_BUCKET])
def test_artifact_buckets_only_deny_and_grant_no_role(example_synth, bucket: str) -> None:
    """DevOps-account roles get artifacts through their identity policies, workload accounts get nothing:
    the policy only denies (plain HTTP, uploads without SSE-KMS)."""
    assert [s["Sid"] for s in statements(bucket_policy(example_synth.stacks["devops"], bucket))] == [
        "DenyInsecureTransport", "DenyUnencryptedObjectUploads",
    ]  # fmt: skip


def test_read_only_bucket_has_no_write_grant(examples) -> None:
    bucket_id, _ = where(examples, "aws_s3_bucket", bucket="example-reports")
    policy = by_sid(parts(examples, bucket_id)["aws_s3_bucket_policy"][1])
    assert sorted(policy) == sorted(["DenyInsecureTransport", "DenyUnencryptedObjectUploads", "AllowListBucket", "AllowReadObjects"])
    for sid in ("AllowListBucket", "AllowReadObjects"):
        assert set(policy[sid]["Action"]) <= READ_ACTIONS
        assert policy[sid]["Principal"] == {"AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"]}
        assert policy[sid]["Condition"] == {"ArnEquals": {"aws:PrincipalArn": sorted([READER_A, READER_B])}}


def test_policy_waits_for_the_public_access_block(synth) -> None:
    for stack_name, lid, found in buckets(synth):
        block_id, _ = found["aws_s3_bucket_public_access_block"]
        policy = found["aws_s3_bucket_policy"][1]
        assert policy["depends_on"] == [f"aws_s3_bucket_public_access_block.{block_id}"], f"{stack_name}/{lid}"


def test_pull_request_bucket_exists_only_for_codestar_sources_and_is_not_the_release_bucket(synth) -> None:
    devops = synth.stacks["devops"]
    naming = synth.project.naming
    names = sorted(b["bucket"] for b in devops["resource"]["aws_s3_bucket"].values())
    if not plans_pull_requests(synth.project):
        assert names == sorted([naming.state_bucket, naming.artifact_bucket])
        assert "pr-artifacts" not in str(devops)
        return
    assert names == sorted([naming.state_bucket, naming.artifact_bucket, naming.pr_artifact_bucket])
    pr_id, pr_bucket = at_path(devops, "aws_s3_bucket", PR_ARTIFACT_BUCKET)
    release_id, release_bucket = at_path(devops, "aws_s3_bucket", ARTIFACT_BUCKET)
    assert pr_id != release_id and pr_bucket["bucket"] != release_bucket["bucket"]
    devops_config = synth.project.devops
    assert pr_bucket["bucket"] == f"{devops_config.name_prefix}-pr-artifacts-{devops_config.account_id}-{devops_config.region}"


def test_repo_pull_request_bucket_is_written_out(example_synth) -> None:
    _, bucket = at_path(example_synth.stacks["devops"], "aws_s3_bucket", PR_ARTIFACT_BUCKET)
    assert bucket["bucket"] == "acme-platform-pr-artifacts-111111111111-eu-west-1"


# --- props validation --------------------------------------------------------------------------
KEY_ARN = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_grants_must_name_exact_role_arns() -> None:
    with pytest.raises(ValueError) as error:
        EncryptedBucketProps(bucket_name="acme-data", kms_key_arn=KEY_ARN, read_write_role_arns=["arn:aws:iam::222222222222:role/*"])
    assert str(error.value) == 'EncryptedBucketProps.read_write_role_arns[0] "arn:aws:iam::222222222222:role/*" is not an exact IAM role ARN (arn:<partition>:iam::<12 digits>:role/<name>, no wildcards)'


@pytest.mark.parametrize("field", ["noncurrent_version_expiration_days", "abort_incomplete_upload_days"])
def test_lifecycle_days_must_be_positive(field: str) -> None:
    with pytest.raises(ValueError) as error:
        EncryptedBucketProps(bucket_name="acme-data", kms_key_arn=KEY_ARN, **{field: 0})
    assert str(error.value) == f"EncryptedBucketProps.{field} 0 must be at least 1"
