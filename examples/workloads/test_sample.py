"""The sample workload's own test: what it declares for an environment, and that inputs reach it.

A team's workload tests look like this one: build a stack with an AWS provider, call ``define`` with
a ``WorkloadEnvironment``, synthesize, and read the JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

from cdktf_cdktf_provider_aws.provider import AwsProvider

from examples.workloads.sample import data_bucket_name, define
from modules.framework import App, TerraformStack
from modules.workload import WorkloadEnvironment


def synthesized(tmp_path: Path, environment: WorkloadEnvironment) -> dict:
    app = App(outdir=str(tmp_path))
    stack = TerraformStack(app, f"workload-{environment.name}")
    AwsProvider(stack, "aws", region=environment.region, allowed_account_ids=[environment.account_id])
    define(stack, environment)
    app.synth()
    return json.loads((tmp_path / "stacks" / stack.node.id / "cdk.tf.json").read_text())


def environment(days: int) -> WorkloadEnvironment:
    return WorkloadEnvironment(
        name="prod", account_id="444444444444", region="eu-west-1", name_prefix="acme", inputs={"data_noncurrent_version_days": days}
    )


def test_an_encrypted_versioned_bucket_and_a_parameter_naming_it(tmp_path: Path) -> None:
    prod = environment(90)
    stack = synthesized(tmp_path, prod)
    resources = stack["resource"]
    (bucket,) = resources["aws_s3_bucket"].values()
    assert bucket["bucket"] == data_bucket_name(prod) == "acme-prod-data-444444444444-eu-west-1"
    (encryption,) = resources["aws_s3_bucket_server_side_encryption_configuration"].values()
    (rule,) = encryption["rule"]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
    (key_id,) = resources["aws_kms_key"]
    assert rule["apply_server_side_encryption_by_default"]["kms_master_key_id"] == f"${{aws_kms_key.{key_id}.arn}}"
    (versioning,) = resources["aws_s3_bucket_versioning"].values()
    assert versioning["versioning_configuration"] == {"status": "Enabled"}
    (parameter,) = resources["aws_ssm_parameter"].values()
    assert parameter["name"] == "/acme/prod/data-bucket"
    (bucket_id,) = resources["aws_s3_bucket"]
    assert parameter["value"] == f"${{aws_s3_bucket.{bucket_id}.bucket}}"


def test_the_input_sets_how_long_older_versions_are_kept(tmp_path: Path) -> None:
    for days in (90, 365):
        stack = synthesized(tmp_path / str(days), environment(days))
        (lifecycle,) = stack["resource"]["aws_s3_bucket_lifecycle_configuration"].values()
        assert lifecycle["rule"][0]["noncurrent_version_expiration"] == [{"noncurrent_days": days}]
