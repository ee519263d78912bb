"""Post-deploy check of the sample workload: every bucket the environment's stack declares exists, is
encrypted with KMS by default and keeps versions.

Runs as an ``after-apply`` step (``step "data-bucket-check" {}`` in ``environment.hcl``), in a checkout of
the release with ``cdktf.out/``. It reads the workload account through the environment's read-only plan
role, whose ARN the step gets as ``WORKLOAD_ROLE_ARN`` (and ``WORKLOAD_EXTERNAL_ID``, ``WORKLOAD_REGION``,
``STACK``): it can look, never change. One line per finding; exit 1 when anything is wrong, which fails
the step and stops the release before the next wave.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import boto3
from botocore.exceptions import ClientError


def declared_buckets(stack_file: Path) -> list[str]:
    """The literal names of the stack's ``aws_s3_bucket`` resources (a computed name cannot be checked here)."""
    resources = json.loads(stack_file.read_text()).get("resource", {})
    names = [bucket.get("bucket") for bucket in resources.get("aws_s3_bucket", {}).values()]
    return sorted(name for name in names if isinstance(name, str) and "${" not in name)


def workload_session(env: dict[str, str]) -> boto3.session.Session:
    """A session in the workload account, through its read-only plan role."""
    assume = {"RoleArn": env["WORKLOAD_ROLE_ARN"], "RoleSessionName": f"check-{env.get('ENVIRONMENT', 'workload')}"}
    if env.get("WORKLOAD_EXTERNAL_ID"):
        assume["ExternalId"] = env["WORKLOAD_EXTERNAL_ID"]
    keys = boto3.client("sts", region_name=env["WORKLOAD_REGION"]).assume_role(**assume)["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
        region_name=env["WORKLOAD_REGION"],
    )


def problems_of(s3, bucket: str) -> list[str]:
    """What is wrong with ``bucket``: missing, not KMS-encrypted by default, versioning not enabled."""
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        return [f"{bucket}: does not exist or cannot be read ({error.response['Error'].get('Code', 'error')})"]
    found = []
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        algorithms = {rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for rule in rules}
    except ClientError:
        algorithms = set()
    if not algorithms & {"aws:kms", "aws:kms:dsse"}:
        found.append(f"{bucket}: default encryption is not KMS ({', '.join(sorted(algorithms)) or 'none'})")
    status = s3.get_bucket_versioning(Bucket=bucket).get("Status", "never enabled")
    if status != "Enabled":
        found.append(f"{bucket}: versioning is {status}, not Enabled")
    return found


def main(env: dict[str, str]) -> int:
    stack = env["STACK"]
    stack_file = Path(env.get("CDKTF_OUTDIR", "cdktf.out")) / "stacks" / stack / "cdk.tf.json"
    buckets = declared_buckets(stack_file)
    if not buckets:
        print(f"{stack}: declares no bucket with a fixed name; nothing to check")
        return 0
    s3 = workload_session(env).client("s3")
    failures = []
    for bucket in buckets:
        found = problems_of(s3, bucket)
        failures += found
        print(f"  ok: {bucket} exists, is KMS-encrypted and versioned" if not found else "\n".join(f"  FAILED: {line}" for line in found))
    if failures:
        print(f"{stack}: {len(failures)} check(s) failed; the release stops here", file=sys.stderr)
        return 1
    print(f"{stack}: {len(buckets)} bucket(s) checked")
    return 0


if __name__ == "__main__":
    sys.exit(main(dict(os.environ)))
