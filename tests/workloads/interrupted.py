"""The sample workload plus an archive bucket: the release the interrupted-apply test kills mid-way.

Applying it creates the archive bucket and its settings in a few seconds, then spends about 55 s on the
bucket's lifecycle configuration (the AWS provider waits until it reads back): the window in which the
test kills terraform.
"""

from __future__ import annotations

from examples.workloads.sample import define as define_sample
from modules.encrypted_bucket import EncryptedBucket, EncryptedBucketProps
from modules.framework import Construct
from modules.workload import WorkloadEnvironment


def archive_bucket_name(environment: WorkloadEnvironment) -> str:
    return f"{environment.name_prefix}-{environment.name}-archive-{environment.account_id}-{environment.region}"


def define(scope: Construct, environment: WorkloadEnvironment) -> None:
    define_sample(scope, environment)
    data_key = scope.node.find_child("data-key")
    EncryptedBucket(scope, "archive-bucket", EncryptedBucketProps(bucket_name=archive_bucket_name(environment), kms_key_arn=data_key.key_arn))
