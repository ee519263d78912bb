"""Fixtures for the module tests: both synthesized projects, and module-level examples.

The examples cover construct settings the product's own configuration never uses (a key with a
short deletion window, a read-only bucket, a role with no policy, a privileged build). They are
synthesized once per session with ``cdktf.Testing.synth`` on one stack holding all of them.
"""

from __future__ import annotations

import json

import pytest

from tests.modules.helpers import EXAMPLE_ACCOUNT, EXAMPLE_BUILDSPEC, EXAMPLE_PIPELINE_ROLE, READER_A, READER_B


@pytest.fixture(params=["example_synth", "alt_synth"])
def synth(request: pytest.FixtureRequest):
    """Each synthesized project in turn (both are session-scoped; this only picks one)."""
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="session")
def examples() -> dict:
    """One stack of module-level examples, as ``cdk.tf.json``."""
    import cdktf

    from modules.build_project import BuildProject, BuildProjectProps
    from modules.deploy_role import DeployRole, DeployRoleProps
    from modules.encrypted_bucket import EncryptedBucket, EncryptedBucketProps
    from modules.framework import TerraformStack
    from modules.kms_key import KmsKey, KmsKeyProps

    stack = TerraformStack(cdktf.Testing.app(), "examples")
    key = KmsKey(
        stack,
        "key",
        KmsKeyProps(
            alias="alias/example-data",
            account_id=EXAMPLE_ACCOUNT,
            deletion_window_in_days=7,
            user_role_arns=[READER_B, READER_A],
        ),
    )
    EncryptedBucket(
        stack,
        "reports",
        EncryptedBucketProps(
            bucket_name="example-reports",
            kms_key_arn=key.key_arn,
            read_role_arns=[READER_B, READER_A],
            noncurrent_version_expiration_days=45,
            abort_incomplete_upload_days=3,
            force_destroy=True,
        ),
    )
    DeployRole(stack, "bare-role", DeployRoleProps(role_name="example-bare", trusted_role_arns=[READER_A, EXAMPLE_PIPELINE_ROLE]))
    BuildProject(
        stack,
        "docker-build",
        BuildProjectProps(
            project_name="example-docker",
            service_role_arn=EXAMPLE_PIPELINE_ROLE,
            kms_key_arn=key.key_arn,
            buildspec=EXAMPLE_BUILDSPEC,
            privileged_mode=True,
            log_retention_days=14,
            environment_variables={"STAGE": "test", "GREETING": "hello"},
            cache_location="example-cache/docker",
        ),
    )
    return json.loads(cdktf.Testing.synth(stack))
