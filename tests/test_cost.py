"""``provisioner cost``: pricing rules, the estimate from synthesized pipelines, the monthly report."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from provisioner.commands import cost
from provisioner.cost import codebuild, monthly, pricing
from provisioner.cost.monthly import DirectorySource, build_report
from provisioner.cost.pricing import BillingMonth, UsagePattern
from provisioner.errors import UserError

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURE_STACKS = Path(__file__).resolve().parent / "cost_fixtures" / "stacks"
MAY = BillingMonth(2024, 5)
AFTER_MAY = datetime(2024, 7, 1, tzinfo=timezone.utc)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def run_cli(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "provisioner", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(REPO_ROOT),
            # never reach a real AWS configuration, credentials or instance metadata
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
        },
    )


# --- pricing rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "minutes"),
    [(61, 2), (60, 1), (59.999, 1), (1, 1), (0, 1), (120.001, 3), (3600, 60), (3600.5, 61)],
)
def test_each_action_is_rounded_up_to_the_whole_minute(seconds, minutes):
    assert pricing.billable_minutes(timedelta(seconds=seconds)) == minutes


def test_an_action_cannot_end_before_it_starts():
    with pytest.raises(ValueError, match="cannot end before it starts"):
        pricing.billable_minutes(timedelta(seconds=-1))


@pytest.mark.parametrize(("minutes", "billed"), [("0.5", 1), ("1", 1), ("3", 3), ("3.01", 4), ("0.001", 1)])
def test_fractional_minutes_per_action_are_billed_rounded_up(minutes, billed):
    assert pricing.billable_minutes_per_action(Decimal(minutes)) == billed


@pytest.mark.parametrize("minutes", ["0", "-0.5", "NaN", "Infinity"])
def test_minutes_per_action_must_be_a_positive_number(minutes):
    with pytest.raises(ValueError, match="above 0"):
        pricing.billable_minutes_per_action(Decimal(minutes))


@pytest.mark.parametrize(
    ("category", "owner", "provider", "charged"),
    [
        ("Approval", "AWS", "Manual", False),
        ("Build", "Custom", "JenkinsBuild", False),
        ("Build", "AWS", "CodeBuild", True),
        ("Source", "AWS", "CodeStarSourceConnection", True),
        ("Invoke", "AWS", "Lambda", True),
        ("Deploy", "ThirdParty", "SomeVendor", True),
    ],
)
def test_manual_approvals_and_custom_actions_are_free(category, owner, provider, charged):
    assert pricing.is_charged_action(category, owner, provider) is charged


@pytest.mark.parametrize(
    ("minutes", "free", "billed", "usd"),
    [(0, 0, 0, "0"), (99, 99, 0, "0"), (100, 100, 0, "0"), (101, 100, 1, "0.002"), (1100, 100, 1000, "2.000")],
)
def test_v2_bill_gives_100_free_minutes_then_charges_each_minute(minutes, free, billed, usd):
    bill = pricing.v2_bill(minutes)
    assert (bill.free_minutes, bill.billed_minutes, bill.usd) == (free, billed, Decimal(usd))


@pytest.mark.parametrize(("active", "billed", "usd"), [(0, 0, "0"), (1, 0, "0"), (2, 1, "1"), (5, 4, "4")])
def test_v1_bill_gives_one_active_pipeline_free(active, billed, usd):
    bill = pricing.v1_bill(active)
    assert (bill.billed_pipelines, bill.usd) == (billed, Decimal(usd))


def test_v1_pipelines_are_free_for_their_first_30_days():
    created = utc("2024-04-01T12:00:00")
    assert not pricing.v1_past_free_period(created, created + timedelta(days=30))
    assert pricing.v1_past_free_period(created, created + timedelta(days=30, seconds=1))


def test_billing_month_bounds_are_utc_and_end_exclusive():
    december = BillingMonth.parse("2023-12")
    assert (december.start, december.end) == (utc("2023-12-01T00:00:00"), utc("2024-01-01T00:00:00"))
    assert utc("2024-05-31T23:59:30") in MAY
    assert utc("2024-06-01T00:00:00") not in MAY
    assert utc("2024-05-01T00:00:00") in MAY
    assert str(MAY) == "2024-05"


@pytest.mark.parametrize("text", ["2024-13", "2024-00", "24-05", "2024/05", "May 2024", "2024-5", ""])
def test_billing_month_rejects_anything_but_yyyy_mm(text):
    with pytest.raises(ValueError, match="YYYY-MM"):
        BillingMonth.parse(text)


@pytest.mark.parametrize(
    ("amount", "shown"),
    [("0", "$0.00"), ("0.76", "$0.76"), ("0.018", "$0.018"), ("0.002", "$0.002"), ("1", "$1.00"), ("1234.5", "$1,234.50")],
)
def test_dollars_show_a_third_decimal_only_when_it_is_needed(amount, shown):
    assert pricing.format_usd(Decimal(amount)) == shown


# --- estimate -----------------------------------------------------------------------------------


def action(name: str, category: str = "Build", owner: str = "AWS", provider: str = "CodeBuild") -> dict:
    return {"name": name, "category": category, "owner": owner, "provider": provider, "version": "1"}


def write_stack(stacks_dir: Path, stack: str, pipelines: dict) -> None:
    folder = stacks_dir / stack
    folder.mkdir(parents=True)
    (folder / "cdk.tf.json").write_text(json.dumps({"resource": {"aws_codepipeline": pipelines}}))


def two_stage_pipeline(name: str, pipeline_type: str | None = "V2", build_actions: int = 1) -> dict:
    body = {
        "name": name,
        "stage": [
            {"name": "Source", "action": [action("Source", "Source", provider="CodeStarSourceConnection")]},
            {"name": "Build", "action": [action(f"Build{index}") for index in range(build_actions)]},
        ],
    }
    if pipeline_type:
        body["pipeline_type"] = pipeline_type
    return body


def test_fixture_pipeline_is_read_with_its_stages_and_actions():
    [pipeline] = cost.load_synthesized_pipelines(FIXTURE_STACKS)
    assert pipeline.name == "pipeline-provisioner-delivery"
    assert pipeline.pipeline_type == "V2"
    assert [stage.name for stage in pipeline.stages] == ["Source", "Synth", "Deploy-dev", "Deploy-staging", "Deploy-prod"]
    assert [action.name for action in pipeline.stages[3].actions] == ["Plan", "Approval", "Apply"]
    assert pipeline.source.endswith("devops/cdk.tf.json")


def test_estimate_on_the_fixture_charges_every_action_but_the_approvals():
    [pipeline] = cost.load_synthesized_pipelines(FIXTURE_STACKS)
    result = pricing.estimate([pipeline], UsagePattern(20, Decimal(3)))
    [item] = result.pipelines
    assert (item.charged_actions, item.free_actions) == (8, 2)
    assert {stage.name: (stage.charged_actions, stage.free_actions, stage.action_minutes) for stage in item.stages} == {
        "Source": (1, 0, 60),
        "Synth": (1, 0, 60),
        "Deploy-dev": (2, 0, 120),
        "Deploy-staging": (2, 1, 120),
        "Deploy-prod": (2, 1, 120),
    }
    assert result.v2.action_minutes == 480
    assert result.v2.usd == Decimal("0.76")  # (480 - 100 free) x $0.002
    assert result.v1.active_pipelines == 0
    assert result.total_usd == Decimal("0.76")
    assert result.all_v1.usd == Decimal(0)  # one active V1 pipeline is free
    assert result.codebuild_minutes == 7 * 20 * 3


def test_estimate_rounds_a_fractional_minute_up_per_action():
    [pipeline] = cost.load_synthesized_pipelines(FIXTURE_STACKS)
    result = pricing.estimate([pipeline], UsagePattern(30, Decimal("0.5")))
    assert result.pattern.billed_minutes_per_action == 1
    assert result.v2.action_minutes == 8 * 30
    assert result.v2.usd == Decimal("0.28")
    assert result.codebuild_minutes == 7 * 30 * 1  # CodeBuild, too, bills each build rounded up to the whole minute


def test_estimate_as_v1_charges_active_pipelines_past_the_free_one(tmp_path):
    write_stack(tmp_path, "a", {"one": two_stage_pipeline("one"), "two": two_stage_pipeline("two")})
    write_stack(tmp_path, "b", {"three": two_stage_pipeline("three", pipeline_type=None)})
    pipelines = cost.load_synthesized_pipelines(tmp_path)
    assert [pipeline.pipeline_type for pipeline in pipelines] == ["V2", "V2", "V1"]
    as_v1 = pricing.estimate(pipelines, UsagePattern(1, Decimal(1)), pipeline_type="V1")
    assert (as_v1.v1.active_pipelines, as_v1.v1.usd, as_v1.v2.usd) == (3, Decimal(2), Decimal(0))
    idle = pricing.estimate(pipelines, UsagePattern(0, Decimal(1)), pipeline_type="V1")
    assert (idle.v1.active_pipelines, idle.total_usd) == (0, Decimal(0))


def test_estimate_shares_the_100_free_minutes_across_v2_pipelines(tmp_path):
    write_stack(tmp_path, "a", {"one": two_stage_pipeline("one"), "two": two_stage_pipeline("two")})
    result = pricing.estimate(cost.load_synthesized_pipelines(tmp_path), UsagePattern(30, Decimal(1)))
    assert [item.action_minutes for item in result.pipelines] == [60, 60]
    assert (result.v2.free_minutes, result.v2.billed_minutes, result.v2.usd) == (100, 20, Decimal("0.04"))


def test_estimate_mixes_types_and_prices_each_as_its_own(tmp_path):
    write_stack(tmp_path, "a", {"new": two_stage_pipeline("new", build_actions=99), "old": two_stage_pipeline("old", "V1")})
    write_stack(tmp_path, "b", {"older": two_stage_pipeline("older", "V1")})
    result = pricing.estimate(cost.load_synthesized_pipelines(tmp_path), UsagePattern(1, Decimal(2)))
    assert result.v2.action_minutes == 200
    assert result.v2.usd == Decimal("0.2")
    assert (result.v1.active_pipelines, result.v1.usd) == (2, Decimal(1))
    assert result.total_usd == Decimal("1.2")


def test_custom_actions_in_a_synthesized_pipeline_are_free(tmp_path):
    body = two_stage_pipeline("p")
    body["stage"][1]["action"].append(action("Jenkins", owner="Custom", provider="MyJenkins"))
    write_stack(tmp_path, "a", {"p": body})
    [item] = pricing.estimate(cost.load_synthesized_pipelines(tmp_path), UsagePattern(1, Decimal(1))).pipelines
    assert (item.charged_actions, item.free_actions) == (2, 1)


def test_no_synthesized_pipeline_tells_the_user_to_synth(tmp_path):
    with pytest.raises(UserError, match="make synth"):
        cost.load_synthesized_pipelines(tmp_path / "cdktf.out" / "stacks")
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "cdk.tf.json").write_text('{"resource": {"aws_s3_bucket": {"b": {}}}}')
    with pytest.raises(UserError, match=r"1 cdk\.tf\.json file\(s\) but no aws_codepipeline; run `make synth`"):
        cost.load_synthesized_pipelines(tmp_path)


def test_a_broken_synthesized_file_is_named(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "cdk.tf.json").write_text("{not json")
    with pytest.raises(UserError, match=r"bad/cdk\.tf\.json: not valid JSON \(line 1"):
        cost.load_synthesized_pipelines(tmp_path)


def test_an_action_without_a_provider_is_named_by_its_address(tmp_path):
    body = two_stage_pipeline("p")
    del body["stage"][1]["action"][0]["provider"]
    write_stack(tmp_path, "a", {"logical": body})
    with pytest.raises(UserError, match=r"resource\.aws_codepipeline\.logical\.stage\[1\]\.action\[0\]\.provider: missing"):
        cost.load_synthesized_pipelines(tmp_path)


def test_estimate_cli_prints_json_for_the_fixture():
    result = run_cli(
        "cost", "estimate", "--stacks-dir", str(FIXTURE_STACKS), "--releases-per-month", "10",
        "--minutes-per-action", "2.5", "--json",
    )
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["billed_minutes_per_action"] == 3
    assert output["v2_action_minutes"] == 8 * 10 * 3
    assert output["v2_usd"] == 0.28
    assert output["total_usd"] == 0.28
    assert output["compare"] == {"all_v1_usd": 0.0, "all_v1_active": 1, "all_v2_usd": 0.28, "all_v2_action_minutes": 240}
    assert [stage["name"] for stage in output["pipelines"][0]["stages"]][-1] == "Deploy-prod"
    assert {item["service"] for item in output["billed_elsewhere"]} == {"S3", "KMS"}
    # The fixture declares no CodeBuild projects: its 7 builds run --minutes-per-action, of no known compute type.
    assert output["codebuild"] | {"assumed_minutes": None} == {
        "rates_region": "us-east-1", "build_minutes": 7 * 10 * 3, "free_minutes": 0, "unpriced_minutes": 7 * 10 * 3,
        "billed_minutes": 0, "usd": 0.0, "assumed_minutes": None,
    }  # fmt: skip
    assert output["total_with_codebuild_usd"] == output["total_usd"]


def test_estimate_cli_text_names_the_cheaper_type():
    result = run_cli("cost", "estimate", "--stacks-dir", str(FIXTURE_STACKS))
    assert result.returncode == 0, result.stderr
    assert "Deploy-staging" in result.stdout
    assert "V1 is cheaper than V2 by $0.76 a month" in result.stdout
    assert "Total: $0.76 a month" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--releases-per-month", "-1"], "--releases-per-month -1: must be from 0 to 100000"),
        (["--releases-per-month", "1000000000000000000000000000"], "--releases-per-month 1000000000000000000000000000: must be from 0 to 100000"),
        (["--releases-per-month", "2.5"], "--releases-per-month '2.5': must be a whole number"),
        (["--minutes-per-action", "-0.5"], "--minutes-per-action -0.5: must be a number above 0 and at most 10080"),
        (["--minutes-per-action", "0"], "--minutes-per-action 0: must be a number above 0 and at most 10080"),
        (["--minutes-per-action", "abc"], "--minutes-per-action 'abc': must be a number above 0 and at most 10080"),
        (["--minutes-per-action", "1e27"], "--minutes-per-action 1e27: must be a number above 0 and at most 10080"),
        (["--minutes-per-action", "10080.5"], "--minutes-per-action 10080.5: must be a number above 0 and at most 10080"),
        (["--pipeline-type", "V3"], "--pipeline-type 'V3': must be V1 or V2"),
    ],
)
def test_estimate_cli_rejects_bad_numbers_on_one_line(args, message):
    result = run_cli("cost", "estimate", "--stacks-dir", str(FIXTURE_STACKS), *args)
    assert result.returncode == 2
    assert result.stderr.startswith(f"provisioner: {message}")
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_estimate_cli_without_synth_output_exits_2(tmp_path):
    result = run_cli("cost", "estimate", "--stacks-dir", str(tmp_path / "stacks"))
    assert result.returncode == 2
    assert "run `make synth` first" in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


# --- report from saved AWS CLI responses --------------------------------------------------------


def action_run(execution: str, stage: str, name: str, start: str, end: str, status: str = "Succeeded",
               category: str = "Build", owner: str = "AWS", provider: str = "CodeBuild") -> dict:
    return {
        "pipelineExecutionId": execution,
        "actionExecutionId": f"{execution}-{stage}-{name}",
        "pipelineVersion": 3,
        "stageName": stage,
        "actionName": name,
        "startTime": start,
        "lastUpdateTime": end,
        "status": status,
        "input": {"actionTypeId": {"category": category, "owner": owner, "provider": provider, "version": "1"}},
    }


def execution(execution_id: str, start: str, end: str | None = None, trigger: str = "Webhook") -> dict:
    return {
        "pipelineExecutionId": execution_id,
        "status": "Succeeded",
        "startTime": start,
        "lastUpdateTime": end or start,
        "sourceRevisions": [{"actionName": "Source", "revisionId": "abc123"}],
        "trigger": {"triggerType": trigger, "triggerDetail": "arn:aws:iam::111111111111:role/x"},
    }


E1, E2, E3, E4 = (f"0000000{n}-aaaa-bbbb-cccc-dddddddddddd" for n in range(1, 5))

SAVED_RESPONSES = {
    "list-pipelines.json": {
        "pipelines": [
            {"name": "delivery", "version": 3, "pipelineType": "V2", "executionMode": "QUEUED",
             "created": "2024-01-10T09:00:00+00:00", "updated": "2024-04-01T09:00:00+00:00"},
            {"name": "quiet", "version": 1, "pipelineType": "V2", "created": "2024-01-10T09:00:00+00:00"},
            {"name": "legacy", "version": 1, "pipelineType": "V1", "created": "2023-11-01T00:00:00+00:00"},
            {"name": "legacy-untyped", "version": 1, "created": 1685577600.0},
            {"name": "young", "version": 1, "pipelineType": "V1", "created": "2024-05-10T00:00:00+00:00"},
            {"name": "late", "version": 1, "pipelineType": "V1", "created": "2024-04-20T00:00:00+00:00"},
            {"name": "idle", "version": 1, "pipelineType": "V1", "created": "2022-01-01T00:00:00+00:00"},
        ]
    },
    "list-pipeline-executions-delivery.json": {
        "pipelineExecutionSummaries": [
            execution(E3, "2024-05-31T23:59:30+00:00", "2024-06-01T00:01:30+00:00"),
            execution(E4, "2024-05-20T08:00:00+02:00", "2024-05-20T08:04:10+02:00"),
            execution(E1, "2024-05-03T10:00:00+00:00", "2024-05-03T13:40:01+00:00"),
            execution(E2, "2024-04-30T23:50:00+00:00", "2024-05-01T00:05:00+00:00"),
        ]
    },
    "list-action-executions-delivery.json": {
        "actionExecutionDetails": [
            # E3 starts 30 s before June: it counts in May
            action_run(E3, "Source", "Source", "2024-05-31T23:59:30+00:00", "2024-06-01T00:01:30+00:00",
                       category="Source", provider="CodeStarSourceConnection"),
            action_run(E3, "Synth", "Synth", "2024-06-01T00:01:40+00:00", "2024-06-01T00:03:00+00:00"),
            # 06:00 UTC; still running: counted up to its last update (250 s -> 5 min)
            action_run(E4, "Deploy-dev", "Plan", "2024-05-20T08:00:00+02:00", "2024-05-20T08:04:10+02:00",
                       status="InProgress"),
            action_run(E1, "Source", "Source", "2024-05-03T10:00:00+00:00", "2024-05-03T10:00:45+00:00",
                       category="Source", provider="CodeStarSourceConnection"),
            action_run(E1, "Synth", "Synth", "2024-05-03T10:01:00+00:00", "2024-05-03T10:02:01+00:00"),
            action_run(E1, "Deploy-prod", "Plan", "2024-05-03T10:03:00+00:00", "2024-05-03T10:06:00+00:00"),
            action_run(E1, "Deploy-prod", "Approval", "2024-05-03T10:06:00+00:00", "2024-05-03T12:06:00+00:00",
                       category="Approval", provider="Manual"),
            action_run(E1, "Deploy-prod", "Notify", "2024-05-03T10:06:00+00:00", "2024-05-03T10:16:00+00:00",
                       owner="Custom", provider="Notifier"),
            action_run(E1, "Deploy-prod", "Apply", "2024-05-03T12:06:00+00:00", "2024-05-03T13:40:00.500+00:00"),
            # E2 straddles April and May: each action counts in the month it started
            action_run(E2, "Deploy-dev", "Plan", "2024-04-30T23:55:00+00:00", "2024-05-01T00:05:00+00:00"),
            action_run(E2, "Deploy-dev", "Apply", "2024-05-01T00:05:00+00:00", "2024-05-01T00:05:00+00:00"),
        ]
    },
    "list-pipeline-executions-quiet.json": {"pipelineExecutionSummaries": [execution(E1, "2024-03-01T00:00:00Z")]},
    "list-pipeline-executions-legacy.json": {"pipelineExecutionSummaries": [execution(E1, "2024-05-07T10:00:00Z")]},
    "list-pipeline-executions-legacy-untyped.json": {
        "pipelineExecutionSummaries": [execution(E1, "2024-05-08T10:00:00", trigger="StartPipelineExecution")]
    },
    "list-pipeline-executions-young.json": {"pipelineExecutionSummaries": [execution(E1, "2024-05-20T10:00:00Z")]},
    "list-pipeline-executions-late.json": {"pipelineExecutionSummaries": [execution(E1, "2024-05-05T00:00:00Z")]},
    "list-pipeline-executions-idle.json": {"pipelineExecutionSummaries": [execution(E1, "2024-04-30T23:59:59Z")]},
}


def write_responses(folder: Path, responses: dict = SAVED_RESPONSES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, document in responses.items():
        (folder / name).write_text(json.dumps(document, indent=2))
    return folder


@pytest.fixture
def saved(tmp_path) -> Path:
    return write_responses(tmp_path / "responses")


def usage_by_name(report) -> dict:
    return {usage.name: usage for usage in report.pipelines}


def test_report_counts_v2_minutes_per_action_in_the_month_they_started(saved):
    report = build_report(DirectorySource(saved), MAY, now=AFTER_MAY)
    delivery = usage_by_name(report)["delivery"]
    # E1: 45 s -> 1, 61 s -> 2, 180 s -> 3, approval and custom free, 94 min 0.5 s -> 95
    # E2: the April Plan is out, the 0 s Apply in May -> 1; E3: 120 s -> 2; E4: 250 s in progress -> 5
    assert delivery.action_minutes == 1 + 2 + 3 + 95 + 1 + 2 + 5
    assert {stage.name: stage.action_minutes for stage in delivery.stages} == {
        "Source": 1 + 2,
        "Synth": 2,
        "Deploy-prod": 3 + 95,
        "Deploy-dev": 5 + 1,
    }
    assert (delivery.charged_actions, delivery.free_actions, delivery.in_progress_actions) == (7, 2, 1)
    assert report.v2.action_minutes == 109
    assert (report.v2.free_minutes, report.v2.billed_minutes, report.v2.usd) == (100, 9, Decimal("0.018"))


def test_report_charges_only_old_v1_pipelines_that_changed_that_month(saved):
    report = build_report(DirectorySource(saved), MAY, now=AFTER_MAY)
    usages = usage_by_name(report)
    assert {name for name, usage in usages.items() if usage.active} == {"legacy", "legacy-untyped"}
    assert usages["legacy-untyped"].pipeline_type == "V1"  # no pipelineType: AWS's default
    assert "10 days old" in usages["young"].reason
    # 15 days old at its only May change, 41 days old by May 31: not charged (free first 30 days)
    assert "15 days old at its last change" in usages["late"].reason
    assert "no change ran through it in 2024-05" in usages["idle"].reason
    assert (report.v1.active_pipelines, report.v1.free_pipelines, report.v1.usd) == (2, 1, Decimal(1))
    assert report.total_usd == Decimal("1.018")


def test_report_does_not_need_action_executions_of_idle_v2_pipelines(saved):
    assert not (saved / "list-action-executions-quiet.json").exists()
    quiet = usage_by_name(build_report(DirectorySource(saved), MAY, now=AFTER_MAY))["quiet"]
    assert (quiet.action_minutes, quiet.reason) == (0, "no action started in 2024-05")


def test_free_v2_minutes_do_not_carry_over_to_the_next_month(saved):
    april = build_report(DirectorySource(saved), BillingMonth(2024, 4), now=AFTER_MAY)
    may = build_report(DirectorySource(saved), MAY, now=AFTER_MAY)
    assert april.v2.action_minutes == 10  # 23:55 -> 00:05
    assert (april.v2.usd, may.v2.free_minutes, may.v2.billed_minutes) == (Decimal(0), 100, 9)


def test_rollbacks_are_not_code_changes_for_v1(tmp_path):
    responses = {
        "list-pipelines.json": {"pipelines": [
            {"name": "a", "pipelineType": "V1", "created": "2023-01-01T00:00:00Z"},
            {"name": "b", "pipelineType": "V1", "created": "2023-01-01T00:00:00Z"},
        ]},
        "list-pipeline-executions-a.json": {"pipelineExecutionSummaries": [
            execution(E1, "2024-05-02T00:00:00Z", trigger="ManualRollback")
        ]},
        "list-pipeline-executions-b.json": {"pipelineExecutionSummaries": [
            execution(E1, "2024-05-02T00:00:00Z", trigger="PollForSourceChanges")
        ]},
    }
    report = build_report(DirectorySource(write_responses(tmp_path, responses)), MAY, now=AFTER_MAY)
    assert [usage.active for usage in report.pipelines] == [False, True]


def test_report_flags_an_unfinished_month(saved):
    report = build_report(DirectorySource(saved), MAY, now=utc("2024-05-20T00:00:00"))
    assert not report.month_complete
    assert "2024-05 is not over: figures so far." in cost.report_text(report)


def test_report_cli_json_from_saved_responses(saved):
    result = run_cli("cost", "report", "--month", "2024-05", "--from-dir", str(saved), "--json")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert (output["total_usd"], output["v1_usd"], output["v1_active"]) == (1.018, 1.0, 2)
    assert (output["v2_usd"], output["v2_action_minutes"], output["in_progress_actions"]) == (0.018, 109, 1)
    pipelines = {entry["name"]: entry for entry in output["pipelines"]}
    assert set(pipelines) == {"delivery", "quiet", "legacy", "legacy-untyped", "young", "late", "idle"}
    assert pipelines["delivery"]["gross_usd"] == 0.218
    assert pipelines["legacy"] == pipelines["legacy"] | {"active": True, "changes": 1, "gross_usd": 1.0}
    assert pipelines["young"]["active"] is False
    assert any("lower bound" in note for note in output["notes"])


def test_report_cli_text(saved):
    result = run_cli("cost", "report", "--month", "2024-05", "--from-dir", str(saved))
    assert result.returncode == 0, result.stderr
    assert "V2: 109 action minutes - 100 free = 9 billed x $0.002 = $0.018" in result.stdout
    assert "V1: 2 active pipeline(s) - 1 free = 1 billed x $1.00 = $1.00" in result.stdout
    assert "Total: $1.018" in result.stdout


@pytest.mark.parametrize(
    ("broken", "content", "message"),
    [
        ("list-pipelines.json", None, r"list-pipelines\.json: missing; save it with `aws codepipeline list-pipelines"),
        ("list-action-executions-delivery.json", None, r"list-action-executions-delivery\.json: missing"),
        ("list-pipeline-executions-idle.json", "{oops", r"list-pipeline-executions-idle\.json: not valid JSON \(line 1"),
        ("list-pipelines.json", '{"pipelineList": []}', r'list-pipelines\.json: expected \{"pipelines": \[\.\.\.\]\}'),
        (
            "list-pipeline-executions-legacy.json",
            '{"pipelineExecutionSummaries": [{"pipelineExecutionId": "x", "startTime": "yesterday"}]}',
            r"list-pipeline-executions-legacy\.json: pipelineExecutionSummaries\[0\]\.startTime: 'yesterday' is not",
        ),
        (
            "list-pipelines.json",
            '{"pipelines": [{"name": "x", "pipelineType": "V3", "created": "2024-01-01T00:00:00Z"}]}',
            r"list-pipelines\.json: pipelines\[0\]\.pipelineType: 'V3' is not one of V1, V2",
        ),
        (
            "list-action-executions-delivery.json",
            json.dumps({"actionExecutionDetails": [
                action_run(E1, "S", "A", "2024-05-02T00:00:10Z", "2024-05-02T00:00:00Z")
            ]}),
            r"actionExecutionDetails\[0\]: lastUpdateTime .* is before startTime",
        ),
        (
            "list-action-executions-delivery.json",
            '{"actionExecutionDetails": [{"pipelineExecutionId": "x", "stageName": "S", "actionName": "A", '
            '"startTime": "2024-05-02T00:00:00Z", "lastUpdateTime": "2024-05-02T00:00:00Z"}]}',
            r"actionExecutionDetails\[0\]\.input: expected an object",
        ),
    ],
)
def test_report_names_the_missing_or_malformed_file(saved, broken, content, message):
    path = saved / broken
    if content is None:
        path.unlink()
    else:
        path.write_text(content)
    with pytest.raises(UserError, match=message):
        build_report(DirectorySource(saved), MAY, now=AFTER_MAY)


def test_report_cli_with_a_missing_folder_exits_2_on_one_line(tmp_path):
    result = run_cli("cost", "report", "--from-dir", "missing", "--month", "2024-05", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("provisioner: missing: no such folder")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_report_cli_with_a_broken_file_exits_2_naming_it(saved):
    (saved / "list-pipelines.json").write_text("[]")
    result = run_cli("cost", "report", "--from-dir", str(saved), "--month", "2024-05")
    assert result.returncode == 2
    assert f"{saved / 'list-pipelines.json'}: expected" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("month", ["2024-13", "2024-5", "may"])
def test_report_cli_rejects_a_bad_month(saved, month):
    result = run_cli("cost", "report", "--from-dir", str(saved), "--month", month)
    assert result.returncode == 2
    assert result.stderr == f"provisioner: --month: month {month!r} must be YYYY-MM, e.g. 2024-05\n"


def test_report_cli_without_a_region_says_how_to_give_one(tmp_path):
    result = run_cli("cost", "report", "--month", "2024-05", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("provisioner: cannot reach CodePipeline:")
    assert "pass --region or set AWS_REGION" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-31T23:59:30Z", utc("2024-05-31T23:59:30")),
        ("2024-06-01T01:59:30+02:00", utc("2024-05-31T23:59:30")),
        ("2024-05-31T23:59:30.123000", utc("2024-05-31T23:59:30.123")),
        (1717199970, utc("2024-05-31T23:59:30")),
        (datetime(2024, 6, 1, 1, 59, 30, tzinfo=timezone(timedelta(hours=2))), utc("2024-05-31T23:59:30")),
    ],
)
def test_timestamps_are_read_as_the_cli_or_boto3_gives_them(value, expected):
    assert monthly.parse_timestamp(value, "where") == expected


# --- report from the API (boto3) ----------------------------------------------------------------


@pytest.fixture
def fake_credentials(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def stubbed(fake_credentials):
    client = boto3.client("codepipeline", region_name="eu-west-1")
    with Stubber(client) as stubber:
        yield client, stubber
    stubber.assert_no_pending_responses()


def test_boto3_source_reads_every_page(stubbed):
    client, stubber = stubbed
    created = utc("2024-01-01T00:00:00")
    stubber.add_response(
        "list_pipelines",
        {"pipelines": [{"name": "delivery", "pipelineType": "V2", "created": created}], "nextToken": "p2"},
        {},
    )
    stubber.add_response(
        "list_pipelines",
        {"pipelines": [{"name": "legacy", "pipelineType": "V1", "created": created}]},
        {"nextToken": "p2"},
    )
    stubber.add_response(
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": [
            {"pipelineExecutionId": E2, "startTime": utc("2024-05-09T00:00:00"),
             "lastUpdateTime": utc("2024-05-09T00:10:00"), "trigger": {"triggerType": "WebhookV2"}},
        ], "nextToken": "e2"},
        {"pipelineName": "delivery"},
    )
    stubber.add_response(
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": [
            {"pipelineExecutionId": E1, "startTime": utc("2024-05-02T00:00:00"),
             "lastUpdateTime": utc("2024-05-02T00:10:00"), "trigger": {"triggerType": "WebhookV2"}},
        ]},
        {"pipelineName": "delivery", "nextToken": "e2"},
    )
    build = {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"}
    stubber.add_response(
        "list_action_executions",
        {"actionExecutionDetails": [
            {"pipelineExecutionId": E2, "stageName": "Synth", "actionName": "Synth", "status": "Succeeded",
             "startTime": utc("2024-05-09T00:00:00"), "lastUpdateTime": utc("2024-05-09T00:04:01"),
             "input": {"actionTypeId": build}},
        ], "nextToken": "a2"},
        {"pipelineName": "delivery"},
    )
    stubber.add_response(
        "list_action_executions",
        {"actionExecutionDetails": [
            {"pipelineExecutionId": E1, "stageName": "Synth", "actionName": "Synth", "status": "Failed",
             "startTime": utc("2024-05-02T00:00:00"), "lastUpdateTime": utc("2024-05-02T00:01:00"),
             "input": {"actionTypeId": build}},
        ]},
        {"pipelineName": "delivery", "nextToken": "a2"},
    )
    stubber.add_response(
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": [
            {"pipelineExecutionId": E3, "startTime": utc("2024-05-03T00:00:00"),
             "lastUpdateTime": utc("2024-05-03T00:01:00"), "trigger": {"triggerType": "CloudWatchEvent"}},
        ]},
        {"pipelineName": "legacy"},
    )
    source = monthly.Boto3Source(client)
    report = build_report(source, MAY, now=AFTER_MAY)
    assert source.description == "CodePipeline API in eu-west-1"
    assert [usage.name for usage in report.pipelines] == ["delivery", "legacy"]
    assert report.v2.action_minutes == 5 + 1  # 4 min 1 s from the first page, 60 s from the second
    assert usage_by_name(report)["delivery"].executions == 2
    assert report.v1.active_pipelines == 1


def test_boto3_errors_become_one_line_user_errors(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("list_pipelines", "AccessDeniedException", "not allowed to list pipelines")
    with pytest.raises(UserError, match="CodePipeline list_pipelines in eu-west-1: .*not allowed") as caught:
        monthly.Boto3Source(client).pipelines()
    assert "\n" not in str(caught.value)


def test_report_against_moto(fake_credentials, monkeypatch):
    from moto import mock_aws

    clock = {"now": datetime(2024, 1, 1)}
    monkeypatch.setattr("moto.codepipeline.models.utcnow", lambda: clock["now"])
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "codepipeline.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]}
    with mock_aws():
        role = boto3.client("iam").create_role(RoleName="pipeline", AssumeRolePolicyDocument=json.dumps(trust))
        client = boto3.client("codepipeline", region_name="eu-west-1")

        def create(name: str) -> None:
            client.create_pipeline(pipeline={
                "name": name,
                "roleArn": role["Role"]["Arn"],
                "artifactStore": {"type": "S3", "location": "artifacts"},
                "stages": [
                    {"name": "Source", "actions": [{"name": "Source", "actionTypeId": {
                        "category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
                        "configuration": {"S3Bucket": "src", "S3ObjectKey": "src.zip"},
                        "outputArtifacts": [{"name": "src"}]}]},
                    {"name": "Build", "actions": [{"name": "Build", "actionTypeId": {
                        "category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"},
                        "configuration": {"ProjectName": "build"}, "inputArtifacts": [{"name": "src"}]}]},
                ],
            })

        create("old-busy")
        create("old-busy-too")
        create("old-idle")
        clock["now"] = datetime(2024, 5, 20)
        create("young")
        clock["now"] = datetime(2024, 5, 25)
        for name in ("old-busy", "old-busy-too", "young"):
            client.start_pipeline_execution(name=name)
        report = build_report(monthly.Boto3Source(client), MAY, now=AFTER_MAY)

    usages = usage_by_name(report)
    assert set(usages) == {"old-busy", "old-busy-too", "old-idle", "young"}
    assert all(usage.pipeline_type == "V1" for usage in usages.values())  # moto lists no pipelineType
    assert usages["old-busy"].created == utc("2024-01-01T00:00:00")
    assert [name for name, usage in usages.items() if usage.active] == ["old-busy", "old-busy-too"]
    assert (report.v1.active_pipelines, report.v1.usd, report.total_usd) == (2, Decimal(1), Decimal(1))


# --- scheduled pipelines ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expression", "runs"),
    [
        ("rate(1 day)", 30), ("rate(12 hours)", 60), ("rate(30 minutes)", 1440), ("rate(7 days)", 4),
        ("cron(0 6 * * ? *)", 30), ("cron(0 6 ? * MON-FRI *)", 22), ("cron(0,30 8-17 ? * MON-FRI *)", 429),
        ("cron(0 6 1 * ? *)", 1), ("cron(0 */6 * * ? *)", 120),
    ],
)  # fmt: skip
def test_a_schedule_runs_as_often_as_eventbridge_fires_it_in_a_30_day_month(expression: str, runs: int) -> None:
    assert pricing.schedule_runs_per_month(expression) == runs


def test_the_drift_pipeline_is_priced_on_its_schedule_not_on_releases(example_synth, capsys: pytest.CaptureFixture[str]) -> None:
    from provisioner import cli

    assert cli.main(["cost", "estimate", "--stacks-dir", str(example_synth.outdir / "stacks"), "--releases-per-month", "10", "--json"]) == 0
    pipelines = {p["name"]: p for p in json.loads(capsys.readouterr().out)["pipelines"]}
    drift, release = pipelines["acme-platform-drift"], pipelines["acme-platform-delivery"]
    assert (drift["schedule"], drift["runs_per_month"]) == ("rate(1 day)", 30)
    assert (release["schedule"], release["runs_per_month"]) == (None, 10)
    # Source runs the default minutes per action; Synth and Detect-drift their builds' assumed minutes, every run.
    per_action = pricing.UsagePattern(1, Decimal(cost.DEFAULT_MINUTES_PER_ACTION)).billed_minutes_per_action
    builds = codebuild.billed_minutes(codebuild.ASSUMED_MINUTES["synth"]) + codebuild.billed_minutes(codebuild.ASSUMED_MINUTES["drift"])
    assert drift["v2_action_minutes"] == 30 * (per_action + builds)
    assert drift["build_minutes_per_run"] == builds


# --- CodeBuild build minutes --------------------------------------------------------------------


def test_codebuild_bills_each_build_rounded_up() -> None:
    assert codebuild.billed_minutes(Decimal("2.01")) == 3
    assert codebuild.billed_minutes(Decimal("3")) == 3
    with pytest.raises(ValueError):
        codebuild.billed_minutes(Decimal(0))


def test_the_free_tier_is_small_minutes_only_and_unknown_types_are_not_priced() -> None:
    small, medium = codebuild.PRICE_PER_MINUTE["BUILD_GENERAL1_SMALL"], codebuild.PRICE_PER_MINUTE["BUILD_GENERAL1_MEDIUM"]
    bill = codebuild.codebuild_bill({"BUILD_GENERAL1_SMALL": 250, "BUILD_GENERAL1_MEDIUM": 40, "BUILD_GENERAL1_2XLARGE": 7})
    assert (bill.build_minutes, bill.free_minutes, bill.unpriced_minutes, bill.billed_minutes) == (297, codebuild.FREE_MINUTES, 7, 290 - codebuild.FREE_MINUTES)
    assert bill.usd == (250 - codebuild.FREE_MINUTES) * small + 40 * medium
    assert codebuild.codebuild_bill({"BUILD_GENERAL1_SMALL": 60}).usd == 0
    assert codebuild.codebuild_bill({"BUILD_GENERAL1_MEDIUM": 60}).usd == 60 * medium, "the free minutes are general1.small's"


def test_every_kind_of_step_has_an_assumed_duration_and_its_project_says_its_kind(example_synth, alt_synth, token_synth) -> None:
    from provisioner.delivery import steps

    for synth in (example_synth, alt_synth, token_synth):
        project = synth.project
        every = [*steps.release_steps(project), *steps.drift_steps(project), *steps.pull_request_steps(project, comment=True)]
        for step in every:
            assert steps.kind_of_construct_id(step.construct_id) == step.kind, step.construct_id
            assert step.kind in codebuild.ASSUMED_MINUTES
    assert steps.kind_of_construct_id("build-cache") is None and steps.kind_of_construct_id("artifacts") is None


def expected_builds(project, step_list, runs: int) -> list[dict]:
    compute_type = project.devops.build.compute_type
    rows = []
    for step in step_list:
        billed = codebuild.billed_minutes(codebuild.ASSUMED_MINUTES[step.kind])
        rows.append({
            "action": step.action_name, "project": step.project_name(project.naming), "kind": step.kind, "compute_type": compute_type,
            "billed_minutes_per_run": billed, "build_minutes_per_month": billed * runs,
            "usd_per_run": float(billed * codebuild.PRICE_PER_MINUTE[compute_type]),
        })  # fmt: skip
    return rows


@pytest.mark.parametrize("configuration", ["example_synth", "alt_synth", "token_synth"])
def test_each_build_of_the_configured_pipelines_has_its_assumed_minutes_per_run_and_a_month(configuration, request, capsys) -> None:
    """The builds of every pipeline, in order, from the configuration's own steps; the figures from the assumptions."""
    from provisioner import cli
    from provisioner.delivery import steps

    synth = request.getfixturevalue(configuration)
    project = synth.project
    releases = 20
    assert cli.main(["cost", "estimate", "--stacks-dir", str(synth.outdir / "stacks"), "--releases-per-month", str(releases), "--json"]) == 0
    output = json.loads(capsys.readouterr().out)
    pipelines = {p["name"]: p for p in output["pipelines"]}
    naming = project.naming
    expected = {naming.pipeline: expected_builds(project, steps.release_steps(project), releases)}
    pull_requests = [name for name in pipelines if name not in (naming.pipeline,) and pipelines[name]["schedule"] is None]
    for name in pull_requests:
        comment = project.devops.github_token_secret is not None
        expected[name] = expected_builds(project, steps.pull_request_steps(project, comment=comment), releases)
    if project.devops.drift_schedule:
        [drift] = [p for p in output["pipelines"] if p["schedule"]]
        expected[drift["name"]] = expected_builds(project, steps.drift_steps(project), pricing.schedule_runs_per_month(project.devops.drift_schedule))
    assert set(expected) == set(pipelines)
    for name, builds in expected.items():
        shown = [{key: value for key, value in build.items() if key != "assumed_minutes"} for build in pipelines[name]["builds"]]
        assert shown == builds, name
        assert pipelines[name]["build_minutes_per_run"] == sum(build["billed_minutes_per_run"] for build in builds)
    total = sum(build["build_minutes_per_month"] for builds in expected.values() for build in builds)
    rate = codebuild.PRICE_PER_MINUTE[project.devops.build.compute_type]
    free = min(total, codebuild.FREE_MINUTES) if project.devops.build.compute_type == codebuild.FREE_TIER_COMPUTE_TYPE else 0
    assert output["codebuild"]["build_minutes"] == total
    assert output["codebuild"]["usd"] == float((total - free) * rate)
    assert output["total_with_codebuild_usd"] == round(output["total_usd"] + output["codebuild"]["usd"], 3)


def test_build_minutes_of_a_kind_can_be_given(example_synth, capsys) -> None:
    from provisioner import cli

    stacks = str(example_synth.outdir / "stacks")
    assert cli.main(["cost", "estimate", "--stacks-dir", stacks, "--build-minutes", "synth=9.5", "--build-minutes", "plan=1", "--json"]) == 0
    output = json.loads(capsys.readouterr().out)
    builds = [build for pipeline in output["pipelines"] for build in pipeline["builds"]]
    assert {build["billed_minutes_per_run"] for build in builds if build["kind"] == "synth"} == {10}
    assert {build["billed_minutes_per_run"] for build in builds if build["kind"] == "plan"} == {1}
    assert output["codebuild"]["assumed_minutes"]["synth"] == 9.5


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("synth", "--build-minutes 'synth': must be KIND=MINUTES, KIND one of synth, "),
        ("compile=3", "--build-minutes 'compile=3': must be KIND=MINUTES, KIND one of synth, "),
        ("plan=abc", "--build-minutes 'plan=abc': the minutes must be a number above 0"),
        ("plan=0", "--build-minutes plan=0: the minutes must be a number above 0"),
        ("plan=20000", "--build-minutes plan=20000: the minutes must be a number above 0 and at most 10080"),
    ],
)
def test_bad_build_minutes_are_refused_on_one_line(value, message):
    result = run_cli("cost", "estimate", "--stacks-dir", str(FIXTURE_STACKS), "--build-minutes", value)
    assert result.returncode == 2
    assert result.stderr.startswith(f"provisioner: {message}")
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""
