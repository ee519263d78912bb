"""A second, different workload: a queue and its dead-letter queue, sized by inputs."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue

from modules.framework import Construct, Fn, TerraformOutput
from modules.workload import WorkloadEnvironment


def define(scope: Construct, environment: WorkloadEnvironment) -> None:
    name = f"{environment.name_prefix}-{environment.name}-orders"
    dead_letters = SqsQueue(
        scope, "orders-dead-letters", name=f"{name}-dlq", sqs_managed_sse_enabled=True, message_retention_seconds=1_209_600
    )
    queue = SqsQueue(
        scope,
        "orders",
        name=name,
        sqs_managed_sse_enabled=True,
        visibility_timeout_seconds=int(environment.inputs["visibility_timeout_seconds"]),
        redrive_policy=Fn.jsonencode({"deadLetterTargetArn": dead_letters.arn, "maxReceiveCount": 5}),
        tags=dict(environment.inputs["queue_tags"]),
    )
    TerraformOutput(scope, "orders_queue_url", value=queue.url)
