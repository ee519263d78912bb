"""``modules.pipeline_notifications.PipelineNotifications``: who hears about failures, successes and approvals,
each once."""

from __future__ import annotations

import fnmatch
import json
import re

from tests.modules.helpers import at_path, by_sid, ref

PIPELINE = "CodePipeline Pipeline Execution State Change"
ACTION = "CodePipeline Action Execution State Change"
EXPECTED_RULES = {
    # rule id: (detail-type, detail filter besides the pipeline, placeholders of the message)
    "pipeline-succeeded": (PIPELINE, {"state": ["SUCCEEDED"]}, {"pipeline", "execution"}),
    "action-failed": (ACTION, {"state": ["FAILED"]}, {"pipeline", "stage", "action", "execution"}),
}
INPUT_PATHS = {
    "pipeline": "$.detail.pipeline",
    "stage": "$.detail.stage",
    "action": "$.detail.action",
    "execution": "$.detail.execution-id",
}


def topic(synth) -> tuple[str, dict]:
    return at_path(synth.stacks["devops"], "aws_sns_topic", "devops/notifications/topic")


def test_topic_is_encrypted_with_the_artifact_key_arn(synth) -> None:
    key_id, _ = at_path(synth.stacks["devops"], "aws_kms_key", "devops/artifacts/key/key")
    _, found = topic(synth)
    assert found["kms_master_key_id"] == ref("aws_kms_key", key_id, "arn")
    assert found["name"] == f"{synth.project.devops.name_prefix}-delivery-events"


def test_one_rule_per_event_filtered_to_the_delivery_pipeline(synth) -> None:
    devops = synth.stacks["devops"]
    pipeline_name = f"{synth.project.devops.name_prefix}-delivery"
    for rule_id, (detail_type, detail, _) in EXPECTED_RULES.items():
        _, rule = at_path(devops, "aws_cloudwatch_event_rule", f"devops/notifications/{rule_id}")
        assert json.loads(rule["event_pattern"]) == {
            "source": ["aws.codepipeline"],
            "detail-type": [detail_type],
            "detail": {"pipeline": [pipeline_name], **detail},
        }, rule_id
    notification_rules = [r for r in devops["resource"]["aws_cloudwatch_event_rule"].values() if "/notifications/" in r["//"]["metadata"]["path"]]
    assert len(notification_rules) == len(EXPECTED_RULES)


def test_each_rule_sends_a_message_naming_pipeline_stage_action_and_execution(synth) -> None:
    devops = synth.stacks["devops"]
    topic_id, _ = topic(synth)
    for rule_id, (_, _, placeholders) in EXPECTED_RULES.items():
        rule_lid, _ = at_path(devops, "aws_cloudwatch_event_rule", f"devops/notifications/{rule_id}")
        _, target = at_path(devops, "aws_cloudwatch_event_target", f"devops/notifications/{rule_id}-target")
        assert target["rule"] == ref("aws_cloudwatch_event_rule", rule_lid, "name")
        assert target["arn"] == ref("aws_sns_topic", topic_id, "arn")
        transformer = target["input_transformer"]
        assert transformer["input_paths"] == {name: INPUT_PATHS[name] for name in placeholders}, rule_id
        message = json.loads(transformer["input_template"])
        assert isinstance(message, str), "the template must be one JSON string so SNS sends plain text"
        assert set(re.findall(r"<([a-z-]+)>", message)) == placeholders, rule_id


def test_a_failure_or_an_approval_reaches_the_topic_once(synth) -> None:
    """A failed action also fails its stage and its execution: only the action's event is sent, and the alarm
    sends nothing. An approval request comes from the approval action itself, never from a rule as well."""
    devops = synth.stacks["devops"]
    patterns = [json.loads(rule["event_pattern"]) for rule in devops["resource"]["aws_cloudwatch_event_rule"].values() if "/notifications/" in rule["//"]["metadata"]["path"]]
    failure_events = [p for p in patterns if "FAILED" in json.dumps(p)]
    assert [p["detail-type"] for p in failure_events] == [[ACTION]]
    assert not [p for p in patterns if "Approval" in json.dumps(p)]
    devops_config = synth.project.devops
    topic_arn = f"arn:aws:sns:{devops_config.region}:{devops_config.account_id}:{topic(synth)[1]['name']}"
    approvals = [
        action["configuration"]["NotificationArn"]
        for pipeline in devops["resource"]["aws_codepipeline"].values()
        for stage in pipeline["stage"]
        for action in stage["action"]
        if action["category"] == "Approval"
    ]
    expected = sum(env.requires_approval for env in synth.project.environments) + synth.project.devops.self_update
    assert approvals == [topic_arn] * expected
    _, alarm = at_path(devops, "aws_cloudwatch_metric_alarm", "devops/notifications/failed-executions-alarm")
    assert "alarm_actions" not in alarm and "ok_actions" not in alarm, "no second message per failure, no OK after each one"


def test_topic_policy_lets_only_this_accounts_rules_and_alarms_publish(synth) -> None:
    devops = synth.project.devops
    devops_stack = synth.stacks["devops"]
    topic_id, found = topic(synth)
    _, policy = at_path(devops_stack, "aws_sns_topic_policy", "devops/notifications/topic-policy")
    assert policy["arn"] == ref("aws_sns_topic", topic_id, "arn")
    statements = by_sid(policy)
    rules_pattern = statements["AllowThisAccountsEventRules"]["Condition"]["ArnLike"]["aws:SourceArn"]
    for rule_id in EXPECTED_RULES:
        _, rule = at_path(devops_stack, "aws_cloudwatch_event_rule", f"devops/notifications/{rule_id}")
        rule_arn = f"arn:aws:events:{devops.region}:{devops.account_id}:rule/{rule['name']}"
        assert fnmatch.fnmatchcase(rule_arn, rules_pattern), f"{rule_arn} could not publish"
    assert statements["AllowThisAccountsAlarms"]["Condition"] == {"StringEquals": {"aws:SourceAccount": devops.account_id}}
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"


def test_email_subscriptions_come_from_devops_hcl(synth) -> None:
    subscriptions = synth.stacks["devops"]["resource"]["aws_sns_topic_subscription"].values()
    topic_id, _ = topic(synth)
    assert sorted(s["endpoint"] for s in subscriptions) == sorted(synth.project.devops.notification_emails)
    assert all(s["protocol"] == "email" and s["topic_arn"] == ref("aws_sns_topic", topic_id, "arn") for s in subscriptions)


def test_alt_has_two_email_subscriptions(alt_synth) -> None:
    subscriptions = alt_synth.stacks["devops"]["resource"]["aws_sns_topic_subscription"].values()
    assert sorted(s["endpoint"] for s in subscriptions) == ["a@example.com", "b@example.com"]


def test_alarm_watches_failed_executions_by_pipeline_name_only(synth) -> None:
    _, alarm = at_path(synth.stacks["devops"], "aws_cloudwatch_metric_alarm", "devops/notifications/failed-executions-alarm")
    pipeline_name = f"{synth.project.devops.name_prefix}-delivery"
    assert alarm["namespace"] == "AWS/CodePipeline"
    assert alarm["metric_name"] == "FailedPipelineExecutions"
    assert alarm["dimensions"] == {"PipelineName": pipeline_name}, "AWS/CodePipeline has no stage, action or execution dimension"
    assert alarm["statistic"] == "Sum"
    assert alarm["threshold"] == 1 and alarm["comparison_operator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["treat_missing_data"] == "notBreaching"
