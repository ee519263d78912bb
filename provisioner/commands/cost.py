"""``provisioner cost estimate`` and ``provisioner cost report``: what the pipelines cost a month."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import textwrap
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from provisioner.cost import codebuild, monthly, pricing
from provisioner.cost.monthly import Report
from provisioner.cost.pricing import (
    PIPELINE_TYPES,
    V1,
    V2,
    ActionDefinition,
    BillingMonth,
    BuildDefinition,
    Estimate,
    PipelineDefinition,
    StageDefinition,
    UsagePattern,
    V1Bill,
    V2Bill,
    format_usd,
)
from provisioner.configuration.target import target_from_environment
from provisioner.delivery.steps import kind_of_construct_id
from provisioner.errors import UserError
from provisioner.paths import CDKTF_OUT
from provisioner.tables import table

DEFAULT_STACKS_DIR = CDKTF_OUT / "stacks"
DEFAULT_RELEASES_PER_MONTH = "20"
DEFAULT_MINUTES_PER_ACTION = "3"

PRICING_RULES = f"""\
CodePipeline pricing (https://aws.amazon.com/codepipeline/pricing/):
  V2 pipelines  ${pricing.V2_PRICE_PER_ACTION_MINUTE} per action execution minute; each action's duration is
                rounded up to the whole minute (61 s -> 2 min). Manual approvals and custom
                actions (owner Custom) are free. {pricing.V2_FREE_ACTION_MINUTES} minutes a month are free per
                account, shared by all its V2 pipelines, not carried over.
  V1 pipelines  ${pricing.V1_PRICE_PER_ACTIVE_PIPELINE} a month per active pipeline: older than {pricing.V1_FREE_PERIOD.days} days with at least
                one code change run through it that month; not prorated. One active V1
                pipeline a month is free per account.
  Months are UTC calendar months. S3 artifact storage and requests and KMS requests are
  billed by those services and are not included.
CodeBuild pricing (https://aws.amazon.com/codebuild/pricing/, {codebuild.RATES_REGION}, Linux on-demand):
  each build is billed from its start to its end, rounded up to the whole minute, at its
  compute type's rate: {", ".join(f"{name.removeprefix('BUILD_GENERAL1_').lower()} ${rate}" for name, rate in codebuild.PRICE_PER_MINUTE.items())} a minute.
  {codebuild.FREE_MINUTES} minutes a month of {codebuild.FREE_TIER_COMPUTE_TYPE} are free per account.

exit codes: 0 done, 2 bad arguments or input (one line on stderr)"""

BILLED_ELSEWHERE = (
    ("S3", "storage and requests for the pipeline's artifacts in its artifact bucket"),
    ("KMS", "the artifact key's monthly fee and a request for each artifact encrypted or decrypted"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    cost = subparsers.add_parser(
        "cost",
        help="what the pipelines cost a month: estimate from the synthesized pipelines, report from AWS",
        description="Estimate or report the monthly AWS CodePipeline charge.",
        epilog=PRICING_RULES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = cost.add_subparsers(dest="cost_command", metavar="COMMAND")
    commands.required = True

    estimate = commands.add_parser(
        "estimate",
        help="estimate a month from the synthesized pipelines and a release pattern",
        description=_paragraph(
            "Estimate a month of CodePipeline charges for the pipelines in <stacks-dir>/*/cdk.tf.json "
            "(run `make synth` first): every release runs every action once. A build of a known kind "
            "runs its assumed minutes (--build-minutes), any other action --minutes-per-action. "
            "Prints the charge per pipeline and stage, V1 against V2 for the same pattern, the CodeBuild "
            "build minutes of each build, per run and a month, and their charge, and what else is "
            "billed. V1 pipelines are taken as past their free first 30 days, and all pipelines as in "
            "one account."
        ),
        epilog=PRICING_RULES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    estimate.add_argument(
        "--releases-per-month",
        default=DEFAULT_RELEASES_PER_MONTH,
        metavar="N",
help=f"pipeline executions a month, per pipeline; a whole number, 0 to {pricing.MAX_RELEASES_PER_MONTH} (default: %(default)s)",
    )
    estimate.add_argument(
        "--minutes-per-action",
        default=DEFAULT_MINUTES_PER_ACTION,
        metavar="M",
help=(
            f"how long an action runs when its kind is not known (a source action, another build), > 0 and at most "
            f"{pricing.MAX_MINUTES_PER_ACTION} (a week), may be fractional (0.5 is billed as 1 minute) (default: %(default)s)"
        ),
    )
    estimate.add_argument(
        "--build-minutes",
        action="append",
        default=[],
        metavar="KIND=M",
        help=(
            "how long a kind of build runs, replacing the assumption (repeatable), e.g. synth=6; kinds and assumed minutes: "
            + ", ".join(f"{kind} {_number(minutes)}" for kind, minutes in codebuild.ASSUMED_MINUTES.items())
        ),
    )
    estimate.add_argument(
        "--pipeline-type",
        metavar="V1|V2",
        help="price every pipeline as this type (default: each pipeline's own pipeline_type)",
    )
    estimate.add_argument(
        "--stacks-dir",
        type=Path,
        default=DEFAULT_STACKS_DIR,
        metavar="DIR",
        help="synthesized stacks, one folder each holding cdk.tf.json (default: %(default)s)",
    )
    estimate.add_argument("--json", action="store_true", help="print JSON instead of text")
    estimate.set_defaults(func=run_estimate)

    report = commands.add_parser(
        "report",
        help="what the account's pipelines cost in a month, from the CodePipeline API",
        description=_paragraph(
            "Report one month's CodePipeline charge for the pipelines of one account and region, from "
            "ListPipelines, ListPipelineExecutions and ListActionExecutions (boto3, default credentials; the "
            "emulator with PROVISIONER_TARGET=local), "
            "or offline from the same responses saved with the AWS CLI in --from-dir: list-pipelines.json, "
            "list-pipeline-executions-<pipeline>.json, list-action-executions-<pipeline>.json (the last "
            "only for V2 pipelines that ran that month). An action counts in the month it started; one "
            "still in progress counts with its duration so far. A V1 pipeline is active when a change "
            "(any execution but a rollback) started that month while it was more than 30 days old."
        ),
        epilog=PRICING_RULES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("--month", required=True, metavar="YYYY-MM", help="the UTC calendar month to report")
    report.add_argument("--json", action="store_true", help="print JSON instead of text")
    origin = report.add_mutually_exclusive_group()
    origin.add_argument("--from-dir", type=Path, metavar="DIR", help="read saved AWS CLI responses instead of AWS")
    origin.add_argument("--region", metavar="R", help="AWS region to read (default: boto3's, e.g. $AWS_REGION)")
    report.set_defaults(func=run_report)


def _paragraph(text: str) -> str:
    """Help text wrapped by hand: the formatter keeps the pricing table's layout, so it wraps nothing."""
    return textwrap.fill(text, width=88, break_on_hyphens=False)


# --- estimate -----------------------------------------------------------------------------------


def run_estimate(args: argparse.Namespace) -> int:
    pattern = _usage_pattern(args.releases_per_month, args.minutes_per_action, args.build_minutes)
    pipeline_type = _pipeline_type(args.pipeline_type)
    pipelines = load_synthesized_pipelines(args.stacks_dir)
    if pipeline_type is None:
        for pipeline in pipelines:
            if pipeline.pipeline_type not in PIPELINE_TYPES:
                raise UserError(
                    f"{pipeline.source}: pipeline {pipeline.name}: pipeline_type {pipeline.pipeline_type!r} "
                    "is not V1 or V2; "
                    "pass --pipeline-type to price it"
                )
    result = pricing.estimate(pipelines, pattern, pipeline_type)
    print(json.dumps(estimate_json(result), indent=2) if args.json else estimate_text(result))
    return 0


def _usage_pattern(releases: str, minutes: str, build_minutes: list[str] = ()) -> UsagePattern:
    releases_range = f"from 0 to {pricing.MAX_RELEASES_PER_MONTH}"
    try:
        release_count = int(releases)
    except ValueError:
        raise UserError(f"--releases-per-month {releases!r}: must be a whole number {releases_range}") from None
    if not 0 <= release_count <= pricing.MAX_RELEASES_PER_MONTH:
        raise UserError(f"--releases-per-month {releases}: must be {releases_range}")
    minutes_range = f"a number above 0 and at most {pricing.MAX_MINUTES_PER_ACTION} (a week, the longest any action runs), e.g. 2.5"
    try:
        minutes_value = Decimal(minutes)
    except InvalidOperation:
        raise UserError(f"--minutes-per-action {minutes!r}: must be {minutes_range}") from None
    if not minutes_value.is_finite() or not 0 < minutes_value <= pricing.MAX_MINUTES_PER_ACTION:
        raise UserError(f"--minutes-per-action {minutes}: must be {minutes_range}")
    return UsagePattern(release_count, minutes_value, _build_minutes(build_minutes, minutes_range))


def _build_minutes(values: list[str], minutes_range: str) -> dict[str, Decimal]:
    """``KIND=M`` pairs over the assumed minutes of each kind of build."""
    assumed = dict(codebuild.ASSUMED_MINUTES)
    for value in values:
        kind, equals, text = value.partition("=")
        if not equals or kind not in assumed:
            raise UserError(f"--build-minutes {value!r}: must be KIND=MINUTES, KIND one of {', '.join(codebuild.ASSUMED_MINUTES)}")
        try:
            minutes = Decimal(text)
        except InvalidOperation:
            raise UserError(f"--build-minutes {value!r}: the minutes must be {minutes_range}") from None
        if not minutes.is_finite() or not 0 < minutes <= pricing.MAX_MINUTES_PER_ACTION:
            raise UserError(f"--build-minutes {value}: the minutes must be {minutes_range}")
        assumed[kind] = minutes
    return assumed


def _pipeline_type(value: str | None) -> str | None:
    if value is None:
        return None
    if value.upper() not in PIPELINE_TYPES:
        raise UserError(f"--pipeline-type {value!r}: must be V1 or V2")
    return value.upper()


def load_synthesized_pipelines(stacks_dir: Path) -> list[PipelineDefinition]:
    """Every ``resource.aws_codepipeline.*`` in ``<stacks_dir>/*/cdk.tf.json``, in file then id order."""
    files = sorted(stacks_dir.glob("*/cdk.tf.json"))
    pipelines = []
    for path in files:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise UserError(
                f"{_shown(path)}: not valid JSON (line {error.lineno} column {error.colno}: {error.msg})"
            ) from None
        except (OSError, UnicodeDecodeError) as error:
            raise UserError(f"{_shown(path)}: cannot be read ({error})") from None
        resources = document.get("resource", {}) if isinstance(document, dict) else {}
        declared = resources.get("aws_codepipeline", {}) if isinstance(resources, dict) else {}
        if not isinstance(declared, dict):
            raise UserError(f"{_shown(path)}: resource.aws_codepipeline must be an object of pipelines")
        schedules = _schedules(resources)
        projects = _projects(resources, _shown(path))
        for logical_id, body in declared.items():
            pipeline = _pipeline(body, _shown(path), f"resource.aws_codepipeline.{logical_id}", projects)
            pipelines.append(dataclasses.replace(pipeline, schedule=schedules.get(logical_id)))
    if not pipelines:
        found = f"{len(files)} cdk.tf.json file(s) but no aws_codepipeline" if files else "no */cdk.tf.json"
        raise UserError(f"{_shown(stacks_dir)}: {found}; run `make synth` first (or pass --stacks-dir)")
    return pipelines


def _schedules(resources: Any) -> dict[str, str]:
    """Pipeline logical id -> the schedule expression of the EventBridge rule that starts it."""
    if not isinstance(resources, dict):
        return {}
    rules = {
        logical_id: rule.get("schedule_expression")
        for logical_id, rule in (resources.get("aws_cloudwatch_event_rule") or {}).items()
        if isinstance(rule, dict) and isinstance(rule.get("schedule_expression"), str)
    }
    found = {}
    for target in (resources.get("aws_cloudwatch_event_target") or {}).values():
        pipeline = re.fullmatch(r"\$\{aws_codepipeline\.([^.}]+)\.arn\}", str(target.get("arn", "")))
        rule = re.fullmatch(r"\$\{aws_cloudwatch_event_rule\.([^.}]+)\.name\}", str(target.get("rule", "")))
        if pipeline and rule and rule[1] in rules:
            found[pipeline[1]] = rules[rule[1]]
    return found


def _projects(resources: Any, file: str) -> dict[str, BuildDefinition]:
    """The stack's CodeBuild projects, by name and by ``${aws_codebuild_project.<id>.name}``: what the
    pipeline actions' ``ProjectName`` says. The step kind comes from the construct id cdktf records."""
    declared = resources.get("aws_codebuild_project") or {} if isinstance(resources, dict) else {}
    if not isinstance(declared, dict):
        raise UserError(f"{file}: resource.aws_codebuild_project must be an object of projects")
    found = {}
    for logical_id, body in declared.items():
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            continue
        path = str(((body.get("//") or {}).get("metadata") or {}).get("path", ""))
        construct_id = path.rsplit("/", 2)[-2] if path.count("/") >= 2 else ""
        environment = body.get("environment")
        compute_type = environment.get("compute_type") if isinstance(environment, dict) else None
        build = BuildDefinition(body["name"], kind_of_construct_id(construct_id), compute_type if isinstance(compute_type, str) else None)
        found[body["name"]] = found[f"${{aws_codebuild_project.{logical_id}.name}}"] = build
    return found


def _blocks(value: Any, where: str) -> list[dict]:
    """A nested block list; cdktf writes lists, a single object is accepted too."""
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list) or not items or not all(isinstance(item, dict) for item in items):
        raise UserError(f"{where}: must be a non-empty list of blocks")
    return items


def _string(block: dict, key: str, where: str, default: str | None = None) -> str:
    value = block.get(key, default)
    if not isinstance(value, str) or not value:
        raise UserError(f"{where}.{key}: missing or not a string")
    return value


def _pipeline(body: Any, file: str, address: str, projects: dict[str, BuildDefinition]) -> PipelineDefinition:
    where = f"{file}: {address}"
    if not isinstance(body, dict):
        raise UserError(f"{where}: must be an object")
    stages = []
    for index, stage in enumerate(_blocks(body.get("stage"), f"{where}.stage")):
        stage_where = f"{where}.stage[{index}]"
        actions = tuple(
            _action(action, f"{stage_where}.action[{number}]", projects)
            for number, action in enumerate(_blocks(stage.get("action"), f"{stage_where}.action"))
        )
        stages.append(StageDefinition(_string(stage, "name", stage_where), actions))
    return PipelineDefinition(
        name=_string(body, "name", where),
        pipeline_type=_string(body, "pipeline_type", where, default=pricing.DEFAULT_PIPELINE_TYPE),
        stages=tuple(stages),
        source=file,
    )


def _action(action: dict, where: str, projects: dict[str, BuildDefinition]) -> ActionDefinition:
    provider = _string(action, "provider", where)
    build = None
    if provider == "CodeBuild":
        configuration = action.get("configuration")
        project = configuration.get("ProjectName") if isinstance(configuration, dict) else None
        build = projects.get(project, BuildDefinition(project)) if isinstance(project, str) else BuildDefinition("")
    return ActionDefinition(
        name=_string(action, "name", where),
        category=_string(action, "category", where),
        owner=_string(action, "owner", where),
        provider=provider,
        build=build,
    )


def _shown(path: Path) -> str:
    """``path`` relative to the working folder when it is inside it (shorter messages)."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd()) else str(path)
    except ValueError:
        return str(path)


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _usd(amount: Decimal) -> float:
    return float(amount.quantize(Decimal("0.001")))


def _v2_line(label: str, bill: V2Bill) -> str:
    return (
        f"{label}: {bill.action_minutes} action minutes - {bill.free_minutes} free = "
        f"{bill.billed_minutes} billed x ${pricing.V2_PRICE_PER_ACTION_MINUTE} = {format_usd(bill.usd)}"
    )


def _v1_line(label: str, bill: V1Bill) -> str:
    return (
        f"{label}: {bill.active_pipelines} active pipeline(s) - {bill.free_pipelines} free = "
        f"{bill.billed_pipelines} billed x {format_usd(pricing.V1_PRICE_PER_ACTIVE_PIPELINE)} = {format_usd(bill.usd)}"
    )


def estimate_text(result: Estimate) -> str:
    pattern = result.pattern
    lines = [
        f"CodePipeline estimate: {pattern.releases_per_month} release(s) a month per pipeline, "
        f"{_number(pattern.minutes_per_action)} minute(s) per action of no known kind "
        f"(billed {pattern.billed_minutes_per_action} whole minute(s) each under V2), builds their assumed minutes (below)",
    ]
    for item in result.pipelines:
        pipeline = item.pipeline
        lines += ["", f"{pipeline.name} ({pipeline.pipeline_type}, priced as {item.priced_as}) from {pipeline.source}"]
        if pipeline.schedule:
            lines.append(f"  runs on its schedule, {pipeline.schedule}: {item.runs} run(s) a month, whatever the releases")
        rows: list[tuple] = [("stage", "charged actions", "free actions", "V2 minutes/month", "V2 cost")]
        rows += [
            (stage.name, stage.charged_actions, stage.free_actions, stage.action_minutes, format_usd(stage.gross_usd))
            for stage in item.stages
        ]
        rows.append(
            (
                "all stages",
                item.charged_actions,
                item.free_actions,
                item.action_minutes,
                format_usd(item.action_minutes * pricing.V2_PRICE_PER_ACTION_MINUTE),
            )
        )
        lines += table(rows, "  ", right_align_numbers=True)
        lines += _builds_text(item)
    v1_count = sum(1 for item in result.pipelines if item.priced_as == V1)
    v2_count = len(result.pipelines) - v1_count
    lines.append("")
    if v2_count:
        lines.append(_v2_line(f"V2 ({v2_count} pipeline(s))", result.v2))
    if v1_count:
        lines.append(_v1_line(f"V1 ({v1_count} pipeline(s))", result.v1))
    lines.append(f"Total: {format_usd(result.total_usd)} a month")
    lines += ["", _codebuild_line(result.codebuild), f"CodePipeline and CodeBuild: {format_usd(result.total_with_codebuild_usd)} a month"]
    lines += ["", "Same pattern, every pipeline as one type:"]
    lines.append("  " + _v2_line("all V2", result.all_v2))
    lines.append("  " + _v1_line("all V1", result.all_v1))
    lines.append("  " + _comparison(result.all_v1.usd, result.all_v2.usd))
    lines += ["", "Billed by other services, not included above (see their pricing pages):"]
    lines += [f"  - {service}: {what}" for service, what in BILLED_ELSEWHERE]
    lines += [
        "",
        "Assumes all these pipelines in one account, V1 pipelines past their free first 30 days, and no "
        "other pipeline in the account: other V2 pipelines share the 100 free minutes, and another "
        "active V1 pipeline would take the free one. V1 lacks V2's triggers, variables and execution modes.",
        "",
        f"Build minutes assumed per build, {_number(codebuild.OVERHEAD_MINUTES)} min of CodeBuild's own work (provisioning, "
        "source, cache, artifacts) included, before rounding up (--build-minutes KIND=M to use yours): "
        + ", ".join(f"{kind} {_number(minutes)}" for kind, minutes in pattern.build_minutes.items())
        + f"; an action of no known kind: {_number(pattern.minutes_per_action)} (--minutes-per-action). Each build's "
        "action also runs that long in CodePipeline.",
    ]
    return "\n".join(lines)


def _compute_label(compute_type: str | None) -> str:
    return compute_type.removeprefix("BUILD_GENERAL1_").lower() if compute_type else "unknown"


def _builds_text(item: pricing.PipelineEstimate) -> list[str]:
    """The pipeline's CodeBuild builds: assumed and billed minutes of one run, and the month's."""
    if not item.builds:
        return []
    rows: list[tuple] = [("build (action)", "kind", "compute", "assumed min", "billed min/run", "$/run")]
    for build in item.builds:
        cost = "n/a" if build.usd_per_run is None else format_usd(build.usd_per_run)
        rows.append((build.action, build.build.kind or "other", _compute_label(build.build.compute_type), _number(build.minutes), build.billed_minutes, cost))
    priced = [build.usd_per_run for build in item.builds if build.usd_per_run is not None]
    rows.append(("all builds", "", "", "", item.build_minutes_per_run, format_usd(sum(priced, Decimal(0)))))
    per_month = item.build_minutes_per_run * item.runs
    return [
        f"  CodeBuild: {item.build_minutes_per_run} build minutes a run x {item.runs} run(s) = {per_month} build minutes a month",
        *table(rows, "  ", right_align_numbers=True),
    ]


def _codebuild_line(bill: codebuild.CodeBuildBill) -> str:
    unpriced = f" - {bill.unpriced_minutes} not priced here (no rate for their compute type)" if bill.unpriced_minutes else ""
    return (
        f"CodeBuild ({codebuild.RATES_REGION} rates): {bill.build_minutes} build minutes - {bill.free_minutes} free "
        f"({_compute_label(codebuild.FREE_TIER_COMPUTE_TYPE)}){unpriced} = {bill.billed_minutes} billed = {format_usd(bill.usd)} a month"
    )


def _comparison(v1_usd: Decimal, v2_usd: Decimal) -> str:
    if v1_usd == v2_usd:
        return f"V1 and V2 cost the same: {format_usd(v1_usd)}"
    cheaper, dearer = (V1, V2) if v1_usd < v2_usd else (V2, V1)
    return f"{cheaper} is cheaper than {dearer} by {format_usd(abs(v1_usd - v2_usd))} a month"


def estimate_json(result: Estimate) -> dict:
    pattern = result.pattern
    return {
        "releases_per_month": pattern.releases_per_month,
        "minutes_per_action": _number(pattern.minutes_per_action),
        "billed_minutes_per_action": pattern.billed_minutes_per_action,
        "total_usd": _usd(result.total_usd),
        "v1_usd": _usd(result.v1.usd),
        "v1_active": result.v1.active_pipelines,
        "v1_free_active": result.v1.free_pipelines,
        "v2_usd": _usd(result.v2.usd),
        "v2_action_minutes": result.v2.action_minutes,
        "v2_free_minutes": result.v2.free_minutes,
        "v2_billed_minutes": result.v2.billed_minutes,
        "compare": {
            "all_v1_usd": _usd(result.all_v1.usd),
            "all_v1_active": result.all_v1.active_pipelines,
            "all_v2_usd": _usd(result.all_v2.usd),
            "all_v2_action_minutes": result.all_v2.action_minutes,
        },
        "pipelines": [
            {
                "name": item.pipeline.name,
                "file": item.pipeline.source,
                "pipeline_type": item.pipeline.pipeline_type,
                "priced_as": item.priced_as,
                "schedule": item.pipeline.schedule,
                "runs_per_month": item.runs,
                "charged_actions": item.charged_actions,
                "free_actions": item.free_actions,
                "v2_action_minutes": item.action_minutes,
                "v2_gross_usd": _usd(item.action_minutes * pricing.V2_PRICE_PER_ACTION_MINUTE),
                "build_minutes_per_run": item.build_minutes_per_run,
                "builds": [
                    {
                        "action": build.action,
                        "project": build.build.project,
                        "kind": build.build.kind,
                        "compute_type": build.build.compute_type,
                        "assumed_minutes": _number(build.minutes),
                        "billed_minutes_per_run": build.billed_minutes,
                        "build_minutes_per_month": build.minutes_per_month,
                        "usd_per_run": None if build.usd_per_run is None else _usd(build.usd_per_run),
                    }
                    for build in item.builds
                ],
                "stages": [
                    {
                        "name": stage.name,
                        "charged_actions": stage.charged_actions,
                        "free_actions": stage.free_actions,
                        "v2_action_minutes": stage.action_minutes,
                        "v2_gross_usd": _usd(stage.gross_usd),
                    }
                    for stage in item.stages
                ],
            }
            for item in result.pipelines
        ],
        "codebuild": {
            "rates_region": codebuild.RATES_REGION,
            "build_minutes": result.codebuild.build_minutes,
            "free_minutes": result.codebuild.free_minutes,
            "unpriced_minutes": result.codebuild.unpriced_minutes,
            "billed_minutes": result.codebuild.billed_minutes,
            "usd": _usd(result.codebuild.usd),
            "assumed_minutes": {kind: _number(minutes) for kind, minutes in pattern.build_minutes.items()},
        },
        "total_with_codebuild_usd": _usd(result.total_with_codebuild_usd),
        "billed_elsewhere": [{"service": service, "what": what} for service, what in BILLED_ELSEWHERE],
    }


# --- report -------------------------------------------------------------------------------------


def run_report(args: argparse.Namespace) -> int:
    try:
        month = BillingMonth.parse(args.month)
    except ValueError as error:
        raise UserError(f"--month: {error}") from None
    if args.from_dir is not None:
        source: monthly.CodePipelineSource = monthly.DirectorySource(args.from_dir)
    else:
        source = monthly.Boto3Source.for_region(args.region, target_from_environment(os.environ))
    result = monthly.build_report(source, month)
    print(json.dumps(report_json(result), indent=2) if args.json else report_text(result))
    return 0


def _report_notes(result: Report) -> list[str]:
    notes = []
    if not result.month_complete:
        notes.append(f"{result.month} is not over: figures so far.")
    if result.in_progress_actions:
        notes.append(
            f"{result.in_progress_actions} action(s) still in progress, counted up to their last update: "
            "the V2 figure is a lower bound."
        )
    notes += [
        "Only pipelines that exist now are listed; one deleted since is missing.",
        "Free tiers are per account, across regions; this reads one region.",
        "CodeBuild, S3 and KMS charges are billed by those services and not included.",
    ]
    return notes


def report_text(result: Report) -> str:
    lines = [f"CodePipeline cost for {result.month} ({result.source})"]
    if result.pipelines:
        rows: list[tuple] = [("pipeline", "type", "created", "executions", "cost", "why")]
        for usage in result.pipelines:
            rows.append(
                (
                    usage.name,
                    usage.pipeline_type,
                    usage.created.date().isoformat(),
                    usage.executions,
                    format_usd(usage.gross_usd),
                    usage.reason,
                )
            )
        lines += table(rows, "  ", right_align_numbers=True)
    else:
        lines.append("  no pipelines")
    for usage in result.pipelines:
        if usage.stages:
            lines += ["", f"{usage.name} by stage, in the order they first ran in {result.month}:"]
            stage_rows: list[tuple] = [("stage", "charged actions", "free actions", "action minutes", "cost")]
            stage_rows += [
                (
                    stage.name,
                    stage.charged_actions,
                    stage.free_actions,
                    stage.action_minutes,
                    format_usd(stage.action_minutes * pricing.V2_PRICE_PER_ACTION_MINUTE),
                )
                for stage in usage.stages
            ]
            lines += table(stage_rows, "  ", right_align_numbers=True)
    lines += ["", _v2_line("V2", result.v2), _v1_line("V1", result.v1), f"Total: {format_usd(result.total_usd)}", ""]
    lines += _report_notes(result)
    return "\n".join(lines)


def report_json(result: Report) -> dict:
    pipelines = []
    for usage in result.pipelines:
        entry: dict[str, Any] = {
            "name": usage.name,
            "pipeline_type": usage.pipeline_type,
            "created": usage.created.isoformat(),
            "executions": usage.executions,
            "gross_usd": _usd(usage.gross_usd),
            "reason": usage.reason,
        }
        if usage.pipeline_type == V2:
            entry.update(
                action_minutes=usage.action_minutes,
                charged_actions=usage.charged_actions,
                free_actions=usage.free_actions,
                in_progress_actions=usage.in_progress_actions,
                stages=[
                    {
                        "name": stage.name,
                        "charged_actions": stage.charged_actions,
                        "free_actions": stage.free_actions,
                        "action_minutes": stage.action_minutes,
                    }
                    for stage in usage.stages
                ],
            )
        else:
            entry.update(changes=usage.changes, active=usage.active)
        pipelines.append(entry)
    return {
        "month": str(result.month),
        "source": result.source,
        "month_complete": result.month_complete,
        "total_usd": _usd(result.total_usd),
        "v1_usd": _usd(result.v1.usd),
        "v1_active": result.v1.active_pipelines,
        "v1_free_active": result.v1.free_pipelines,
        "v2_usd": _usd(result.v2.usd),
        "v2_action_minutes": result.v2.action_minutes,
        "v2_free_minutes": result.v2.free_minutes,
        "v2_billed_minutes": result.v2.billed_minutes,
        "in_progress_actions": result.in_progress_actions,
        "pipelines": pipelines,
        "notes": _report_notes(result),
    }
