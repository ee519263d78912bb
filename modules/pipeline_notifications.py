"""``PipelineNotifications``: an encrypted SNS topic fed by pipeline events and a failure alarm."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetInputTransformer,
)
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription

from modules import policy, validation
from modules.framework import Construct

PIPELINE_EVENT = "CodePipeline Pipeline Execution State Change"
ACTION_EVENT = "CodePipeline Action Execution State Change"


@dataclass(frozen=True)
class EventRule:
    """One EventBridge rule: which pipeline events reach the topic, and how the message reads."""

    id: str
    detail_type: str
    detail: dict
    message: str
    """Template; ``<pipeline>``, ``<stage>``, ``<action>``, ``<execution>``, ``<state>`` are filled in."""


# One message per event a person acts on. A failed action also fails its stage and its pipeline
# execution: only the action's event is sent, since it alone names the stage and the action. Approvals
# are announced by the approval action itself (its NotificationArn), with the review link.
RULES = (
    EventRule("pipeline-succeeded", PIPELINE_EVENT, {"state": ["SUCCEEDED"]},
              "SUCCEEDED: pipeline <pipeline>, execution <execution>."),
    EventRule("action-failed", ACTION_EVENT, {"state": ["FAILED"]},
              "FAILED: pipeline <pipeline>, stage <stage>, action <action>, execution <execution>."),
)  # fmt: skip

INPUT_PATHS = {
    "pipeline": "$.detail.pipeline",
    "stage": "$.detail.stage",
    "action": "$.detail.action",
    "execution": "$.detail.execution-id",
    "state": "$.detail.state",
}


@dataclass(frozen=True)
class PipelineNotificationsProps:
    """Settings of ``PipelineNotifications``."""

    topic_name: str
    """SNS topic name. Required."""
    kms_key_arn: str
    """Customer-managed key that encrypts the topic (its policy must let events and cloudwatch use it). Required."""
    pipeline_names: Sequence[str]
    """Pipelines whose events are reported. Required."""
    account_id: str
    """The only account whose EventBridge rules and CloudWatch alarms may publish to the topic. Required."""
    region: str
    """Region of those rules (in the topic policy's ``aws:SourceArn``). Required."""
    emails: Sequence[str] = ()
    """Email subscriptions (each address must confirm once). Default: none."""
    alarm_pipeline_name: str | None = None
    """Pipeline watched by the ``FailedPipelineExecutions`` alarm. Default: the first of ``pipeline_names``."""
    partition: str = "aws"
    """ARN partition of the account: ``aws-cn`` in the China regions, ``aws-us-gov`` in AWS GovCloud (US).
    Default: ``aws``."""

    def __post_init__(self) -> None:
        validation.check_types(self)
        validation.check(self, "region", validation.REGION)
        policy.check_partition("PipelineNotificationsProps", self.partition, self.region)
        validation.check(self, "topic_name", validation.TOPIC_NAME)
        validation.check(self, "kms_key_arn", validation.KMS_KEY_ARN, validation.in_partition(self.partition))
        if not self.pipeline_names:
            raise ValueError("PipelineNotificationsProps.pipeline_names needs at least one pipeline")
        validation.check(self, "pipeline_names", validation.PIPELINE_NAME)
        validation.check(self, "account_id", validation.ACCOUNT_ID)
        validation.check(self, "emails", validation.EMAIL)
        validation.check(self, "alarm_pipeline_name", validation.PIPELINE_NAME)
        policy.check_partition("PipelineNotificationsProps", self.partition, self.region)


class PipelineNotifications(Construct):
    """Tells people when a release fails, succeeds or waits for them.

    Default settings: a KMS-encrypted topic whose policy lets only EventBridge rules and CloudWatch
    alarms of this account publish; one message per failed action (naming the pipeline, stage,
    action and execution id) and per succeeded pipeline execution; an alarm on ``AWS/CodePipeline``
    ``FailedPipelineExecutions`` (dimension ``PipelineName``) without actions, for dashboards and
    composite alarms (it would repeat the action's message). Approval requests come from the
    approval actions themselves (their ``NotificationArn`` is the topic).
    """

    def __init__(self, scope: Construct, id_: str, props: PipelineNotificationsProps) -> None:
        super().__init__(scope, id_)
        self.props = props
        self.topic = SnsTopic(self, "topic", name=props.topic_name, kms_master_key_id=props.kms_key_arn)
        SnsTopicPolicy(self, "topic-policy", arn=self.topic_arn, policy=policy.document(self.topic_statements()))
        for email in props.emails:
            SnsTopicSubscription(self, f"email-{email}", topic_arn=self.topic_arn, protocol="email", endpoint=email)
        for rule in RULES:
            self._rule(rule)
        watched = props.alarm_pipeline_name or props.pipeline_names[0]
        self.alarm = CloudwatchMetricAlarm(
            self,
            "failed-executions-alarm",
            alarm_name=f"{watched}-failed-executions",
            alarm_description=f"A release of {watched} failed; see the pipeline's execution history",
            namespace="AWS/CodePipeline",
            metric_name="FailedPipelineExecutions",
            dimensions={"PipelineName": watched},
            statistic="Sum",
            period=300,
            evaluation_periods=1,
            threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            # No actions: the action-failed rule already tells the topic, naming stage and action; the
            # alarm's state is for dashboards and composite alarms.
        )

    def _rule(self, rule: EventRule) -> None:
        p = self.props
        event_rule = CloudwatchEventRule(
            self,
            rule.id,
            name=f"{p.topic_name}-{rule.id}"[:64],
            description=f"{rule.detail_type}: {json.dumps(rule.detail)}"[:512],
            event_pattern=json.dumps(
                {
                    "source": ["aws.codepipeline"],
                    "detail-type": [rule.detail_type],
                    "detail": {"pipeline": list(p.pipeline_names), **rule.detail},
                }
            ),
        )
        paths = {name: path for name, path in INPUT_PATHS.items() if f"<{name}>" in rule.message}
        CloudwatchEventTarget(
            self,
            f"{rule.id}-target",
            rule=event_rule.name,
            arn=self.topic_arn,
            input_transformer=CloudwatchEventTargetInputTransformer(input_paths=paths, input_template=json.dumps(rule.message)),
        )

    def topic_statements(self) -> list[policy.Statement]:
        p = self.props
        return [
            {
                "Sid": "AllowThisAccountsEventRules",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": self.topic_arn,
                "Condition": {"ArnLike": {"aws:SourceArn": policy.arn(p.partition, "events", p.region, p.account_id, f"rule/{p.topic_name}-*")}},
            },
            {
                "Sid": "AllowThisAccountsAlarms",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": self.topic_arn,
                "Condition": {"StringEquals": {"aws:SourceAccount": p.account_id}},
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": self.topic_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]

    @cached_property
    def topic_arn(self) -> str:
        return self.topic.arn
