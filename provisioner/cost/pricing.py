"""AWS CodePipeline pricing rules, as plain functions and frozen dataclasses.

Source: https://aws.amazon.com/codepipeline/pricing/ (see also /work/shared/reference.md).

- V1 pipeline: $1.00 per *active* pipeline a month, not prorated. Active = the pipeline has existed
  for more than 30 days and at least one code change ran through it during the month ("pipelines
  are free for the first 30 days after creation"). One active V1 pipeline a month is free per account.
- V2 pipeline: $0.002 per action execution minute; each action's duration, from start to completion,
  is rounded **up** to the whole minute. Manual approval and custom actions (owner ``Custom``) are
  not charged. 100 action minutes a month are free per account, shared by all its V2 pipelines; they
  reset each calendar month and do not carry over.
- A pipeline created without a type is a V1 pipeline.

Billing months are UTC calendar months. Nothing here talks to AWS: ``provisioner.cost.monthly``
collects what ran, ``provisioner.commands.cost`` reads the synthesized pipelines. The estimate also
prices the CodeBuild builds the pipelines run (``provisioner.cost.codebuild``): a build's assumed
duration is both its action's V2 minutes and its build minutes.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_CEILING, Decimal
from typing import Mapping

from provisioner.cost import codebuild

V1 = "V1"
V2 = "V2"
PIPELINE_TYPES = (V1, V2)
DEFAULT_PIPELINE_TYPE = V1

V1_PRICE_PER_ACTIVE_PIPELINE = Decimal("1.00")
V1_FREE_ACTIVE_PIPELINES = 1
V1_FREE_PERIOD = timedelta(days=30)

V2_PRICE_PER_ACTION_MINUTE = Decimal("0.002")
V2_FREE_ACTION_MINUTES = 100

MAX_MINUTES_PER_ACTION = 7 * 24 * 60
"""A week: no CodePipeline action runs longer (a manual approval's timeout is the longest)."""
MAX_RELEASES_PER_MONTH = 100_000
"""More than one release a minute, every minute of a month: beyond it, an estimate is a typo, not a plan."""

_MICROSECONDS_PER_MINUTE = 60_000_000
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def is_charged_action(category: str, owner: str, provider: str) -> bool:
    """Whether a V2 pipeline pays for this action's minutes (manual approvals and custom actions are free)."""
    if owner == "Custom":
        return False
    return not (category == "Approval" and provider == "Manual")


def billable_minutes(duration: timedelta) -> int:
    """Whole minutes charged for one action execution: the duration rounded up, at least 1.

    The API's timestamps have millisecond precision, so an action that ran shows 0 s only when it
    took less than a millisecond; its real duration is still above 0, and rounding up makes 1 minute.
    """
    if duration < timedelta(0):
        raise ValueError(f"an action cannot end before it starts (duration {duration})")
    microseconds = duration // timedelta(microseconds=1)
    return max(1, -(-microseconds // _MICROSECONDS_PER_MINUTE))


def billable_minutes_per_action(minutes: Decimal) -> int:
    """Whole minutes charged for an action of ``minutes`` (a positive, possibly fractional, number)."""
    return codebuild.whole_minutes(minutes, "minutes per action")


@dataclass(frozen=True)
class V2Bill:
    """The month's V2 charge for one account."""

    action_minutes: int
    free_minutes: int
    billed_minutes: int
    usd: Decimal


def v2_bill(action_minutes: int) -> V2Bill:
    """Charge for ``action_minutes`` charged minutes, summed over every V2 pipeline of the account."""
    if action_minutes < 0:
        raise ValueError(f"action minutes cannot be negative ({action_minutes})")
    free = min(action_minutes, V2_FREE_ACTION_MINUTES)
    billed = action_minutes - free
    return V2Bill(action_minutes, free, billed, billed * V2_PRICE_PER_ACTION_MINUTE)


@dataclass(frozen=True)
class V1Bill:
    """The month's V1 charge for one account."""

    active_pipelines: int
    free_pipelines: int
    billed_pipelines: int
    usd: Decimal


def v1_bill(active_pipelines: int) -> V1Bill:
    """Charge for ``active_pipelines`` active V1 pipelines in one account."""
    if active_pipelines < 0:
        raise ValueError(f"active pipelines cannot be negative ({active_pipelines})")
    free = min(active_pipelines, V1_FREE_ACTIVE_PIPELINES)
    billed = active_pipelines - free
    return V1Bill(active_pipelines, free, billed, billed * V1_PRICE_PER_ACTIVE_PIPELINE)


def v1_past_free_period(created: datetime, change_started: datetime) -> bool:
    """Whether a change that started at ``change_started`` ran through a pipeline older than 30 days.

    AWS: "Pipelines are free for the first 30 days after creation", so a change that runs through a
    younger pipeline does not make it active, even if the pipeline is older by the month's end.
    """
    return change_started - created > V1_FREE_PERIOD


@dataclass(frozen=True)
class BillingMonth:
    """A UTC calendar month, as ``YYYY-MM``."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> BillingMonth:
        """``"2024-05"`` -> ``BillingMonth(2024, 5)``; ``ValueError`` with the expected form otherwise."""
        match = _MONTH.fullmatch(text.strip())
        if not match:
            raise ValueError(f"month {text!r} must be YYYY-MM, e.g. 2024-05")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=timezone.utc)

    @property
    def end(self) -> datetime:
        """The first instant of the next month (exclusive)."""
        if self.month == 12:
            return datetime(self.year + 1, 1, 1, tzinfo=timezone.utc)
        return datetime(self.year, self.month + 1, 1, tzinfo=timezone.utc)

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def format_usd(amount: Decimal) -> str:
    """Dollars with 2 decimals, or 3 when the third is needed ($0.002 a minute makes such sums)."""
    cents = amount.quantize(Decimal("0.01"))
    if cents == amount:
        return f"${cents:,.2f}"
    return f"${amount.quantize(Decimal('0.001')):,.3f}"


# --- estimate from a pipeline definition --------------------------------------------------------


@dataclass(frozen=True)
class BuildDefinition:
    """The CodeBuild project a ``CodeBuild`` action runs, as far as the synthesized stack declares it."""

    project: str
    kind: str | None = None
    """The kind of step it is (``provisioner.delivery.steps``); None for a project no step makes."""
    compute_type: str | None = None


@dataclass(frozen=True)
class ActionDefinition:
    """One action of a pipeline definition (the ``action`` block of ``aws_codepipeline``)."""

    name: str
    category: str
    owner: str
    provider: str
    build: BuildDefinition | None = None
    """Set for a CodeBuild action."""

    @property
    def charged(self) -> bool:
        return is_charged_action(self.category, self.owner, self.provider)


@dataclass(frozen=True)
class StageDefinition:
    name: str
    actions: tuple[ActionDefinition, ...]


@dataclass(frozen=True)
class PipelineDefinition:
    """A pipeline as declared; ``source`` says where it was read (shown to users)."""

    name: str
    pipeline_type: str
    stages: tuple[StageDefinition, ...]
    source: str = ""
    schedule: str | None = None
    """The EventBridge schedule that starts it (a scheduled pipeline runs on it, not on releases)."""

    @property
    def runs_per_month(self) -> int | None:
        """Executions a month its schedule makes; None for a pipeline that runs on releases."""
        return schedule_runs_per_month(self.schedule) if self.schedule else None


DAYS_PER_MONTH = 30
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_RATE = re.compile(r"^rate\((\d+) (minute|hour|day)s?\)$")
_MINUTES_PER = {"minute": 1, "hour": 60, "day": 24 * 60}


def schedule_runs_per_month(expression: str) -> int:
    """How often an EventBridge schedule fires in a 30-day month: exact for ``rate(...)``; for ``cron(...)``
    the product of its minute, hour and day fields (a day-of-week list or range counts as its share of a week)."""
    if match := _RATE.match(expression):
        return DAYS_PER_MONTH * 24 * 60 // (int(match[1]) * _MINUTES_PER[match[2]])
    fields = expression.removeprefix("cron(").removesuffix(")").split()
    if len(fields) != 6:
        raise ValueError(f"{expression!r} is not an EventBridge rate() or cron() expression")
    minutes, hours, day_of_month, _, day_of_week, _ = fields
    days = Decimal(DAYS_PER_MONTH)
    if day_of_week not in ("*", "?"):
        days = Decimal(_count(day_of_week, 7, WEEKDAYS)) * DAYS_PER_MONTH / 7
    elif day_of_month not in ("*", "?"):
        days = Decimal(_count(day_of_month, 31))
    return int((_count(minutes, 60) * _count(hours, 24) * days).to_integral_value(rounding=ROUND_CEILING))


def _count(field: str, size: int, names: tuple[str, ...] = ()) -> int:
    """Values a cron field takes: ``*``, ``a``, ``a-b``, ``*/n``, ``a/n`` and lists of them."""
    total = 0
    for part in field.split(","):
        base, _, step = part.partition("/")
        if base in ("*", "?", "L"):
            span = size if base != "L" else 1
        elif "-" in base:
            low, high = (names.index(x) if x in names else int(x) for x in base.split("-"))
            span = high - low + 1
        else:
            span = 1 if not step else size - (names.index(base) if base in names else int(base))
        total += -(-span // int(step)) if step else span
    return total


@dataclass(frozen=True)
class UsagePattern:
    """How often the pipelines run: every release runs every action once.

    releases_per_month: pipeline executions a month, per pipeline (>= 0).
    minutes_per_action: how long an action runs when nothing better is known: a source action, a build
    of no known kind (> 0, may be fractional; billed rounded up). A build of a known kind runs its
    assumed minutes (``build_minutes``, ``provisioner.cost.codebuild.ASSUMED_MINUTES`` by default).
    """

    releases_per_month: int
    minutes_per_action: Decimal
    build_minutes: Mapping[str, Decimal] = dataclasses.field(default_factory=lambda: dict(codebuild.ASSUMED_MINUTES))

    def __post_init__(self) -> None:
        if self.releases_per_month < 0:
            raise ValueError(f"releases per month must be 0 or more, not {self.releases_per_month}")
        billable_minutes_per_action(self.minutes_per_action)
        for minutes in self.build_minutes.values():
            billable_minutes_per_action(minutes)

    @property
    def billed_minutes_per_action(self) -> int:
        return billable_minutes_per_action(self.minutes_per_action)

    def minutes_of(self, action: ActionDefinition) -> Decimal:
        """How long ``action`` is assumed to run."""
        kind = action.build.kind if action.build else None
        return self.build_minutes.get(kind, self.minutes_per_action) if kind else self.minutes_per_action


@dataclass(frozen=True)
class BuildEstimate:
    """One CodeBuild action of a pipeline: its build's assumed minutes, billed per run and per month."""

    action: str
    build: BuildDefinition
    minutes: Decimal
    """Assumed duration of one build."""
    runs: int

    @property
    def billed_minutes(self) -> int:
        """Build minutes of one run (rounded up, as CodeBuild bills each build)."""
        return codebuild.billed_minutes(self.minutes)

    @property
    def minutes_per_month(self) -> int:
        return self.billed_minutes * self.runs

    @property
    def usd_per_run(self) -> Decimal | None:
        rate = codebuild.PRICE_PER_MINUTE.get(self.build.compute_type or "")
        return None if rate is None else self.billed_minutes * rate


@dataclass(frozen=True)
class StageEstimate:
    name: str
    charged_actions: int
    free_actions: int
    action_minutes: int
    """Charged V2 minutes a month (before the account's free minutes)."""

    @property
    def gross_usd(self) -> Decimal:
        return self.action_minutes * V2_PRICE_PER_ACTION_MINUTE


class StageTotals:
    """Totals over ``self.stages`` (each with ``action_minutes``, ``charged_actions``, ``free_actions``)."""

    stages: tuple

    @property
    def action_minutes(self) -> int:
        return sum(stage.action_minutes for stage in self.stages)

    @property
    def charged_actions(self) -> int:
        return sum(stage.charged_actions for stage in self.stages)

    @property
    def free_actions(self) -> int:
        return sum(stage.free_actions for stage in self.stages)


@dataclass(frozen=True)
class PipelineEstimate(StageTotals):
    pipeline: PipelineDefinition
    priced_as: str
    stages: tuple[StageEstimate, ...]
    v1_active: bool
    """Whether, as a V1 pipeline past its first 30 days, this pattern makes it active."""
    runs: int = 0
    """Executions a month: the pattern's releases, or what its schedule makes."""
    builds: tuple[BuildEstimate, ...] = ()
    """Its CodeBuild actions, in pipeline order."""

    @property
    def build_minutes_per_run(self) -> int:
        return sum(build.billed_minutes for build in self.builds)


@dataclass(frozen=True)
class Estimate:
    """A month of ``pattern`` for ``pipelines``, all in one account.

    ``v1``/``v2`` bill the pipelines priced as that type (``total_usd`` is their sum);
    ``all_v1``/``all_v2`` price every pipeline as one type, to compare.
    """

    pattern: UsagePattern
    pipelines: tuple[PipelineEstimate, ...]
    v1: V1Bill
    v2: V2Bill
    all_v1: V1Bill
    all_v2: V2Bill
    codebuild: codebuild.CodeBuildBill
    """The month's CodeBuild builds (billed by CodeBuild: not in ``total_usd``, in ``total_with_codebuild_usd``)."""

    @property
    def codebuild_minutes(self) -> int:
        return self.codebuild.build_minutes

    @property
    def total_usd(self) -> Decimal:
        return self.v1.usd + self.v2.usd

    @property
    def total_with_codebuild_usd(self) -> Decimal:
        return self.total_usd + self.codebuild.usd


def estimate(
    pipelines: list[PipelineDefinition] | tuple[PipelineDefinition, ...],
    pattern: UsagePattern,
    pipeline_type: str | None = None,
) -> Estimate:
    """Price ``pattern`` on ``pipelines``, each as its own type or all as ``pipeline_type``.

    A V1 pipeline is assumed past its first 30 days, so any release makes it active. Each action runs
    ``pattern.minutes_of`` it: its V2 action minutes and, for a CodeBuild action, its build minutes.
    """
    if pipeline_type is not None and pipeline_type not in PIPELINE_TYPES:
        raise ValueError(f"pipeline type must be one of {', '.join(PIPELINE_TYPES)}, not {pipeline_type!r}")
    estimates = []
    minutes_by_type: dict[str, int] = {}
    for pipeline in pipelines:
        releases = pattern.releases_per_month if pipeline.runs_per_month is None else pipeline.runs_per_month
        stages = []
        builds = []
        for stage in pipeline.stages:
            charged = [action for action in stage.actions if action.charged]
            minutes = sum(billable_minutes_per_action(pattern.minutes_of(action)) for action in charged)
            stages.append(StageEstimate(stage.name, len(charged), len(stage.actions) - len(charged), minutes * releases))
            builds += [
                BuildEstimate(action.name, action.build or BuildDefinition(""), pattern.minutes_of(action), releases)
                for action in stage.actions
                if action.provider == "CodeBuild"
            ]
        estimates.append(
            PipelineEstimate(pipeline, pipeline_type or pipeline.pipeline_type, tuple(stages), releases > 0, releases, tuple(builds))
        )
        for build in builds:
            compute_type = build.build.compute_type or ""
            minutes_by_type[compute_type] = minutes_by_type.get(compute_type, 0) + build.minutes_per_month
    v1_active = sum(1 for item in estimates if item.priced_as == V1 and item.v1_active)
    v2_minutes = sum(item.action_minutes for item in estimates if item.priced_as == V2)
    return Estimate(
        pattern=pattern,
        pipelines=tuple(estimates),
        v1=v1_bill(v1_active),
        v2=v2_bill(v2_minutes),
        all_v1=v1_bill(sum(1 for item in estimates if item.v1_active)),
        all_v2=v2_bill(sum(item.action_minutes for item in estimates)),
        codebuild=codebuild.codebuild_bill(minutes_by_type),
    )
