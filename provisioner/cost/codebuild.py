"""AWS CodeBuild pricing and the build durations the estimate assumes, as plain data and functions.

Source: https://aws.amazon.com/codebuild/pricing/ (on-demand EC2 compute, Linux, US East (N. Virginia)):

- a build is billed by the minute, from the moment it is submitted until it ends, rounded **up** to
  the whole minute (a 61-second build costs 2 minutes), at the rate of its project's compute type;
- ``BUILD_GENERAL1_SMALL`` $0.005 a minute, ``MEDIUM`` $0.01, ``LARGE`` $0.02; the larger types are
  priced on that page and not here (the estimate shows their minutes, unpriced);
- the free tier: 100 build minutes a month of ``general1.small`` per account.

Other regions charge a little more; the estimate names the rates it used. How long a build runs is
not known before it ran: ``ASSUMED_MINUTES`` says what the estimate assumes for each kind of build the
pipelines run (``provisioner.delivery.steps``), and why; ``provisioner cost estimate --build-minutes
KIND=M`` replaces an assumption with your own figure (``provisioner status`` shows real durations).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Mapping

PRICE_PER_MINUTE = {
    "BUILD_GENERAL1_SMALL": Decimal("0.005"),
    "BUILD_GENERAL1_MEDIUM": Decimal("0.01"),
    "BUILD_GENERAL1_LARGE": Decimal("0.02"),
}
FREE_TIER_COMPUTE_TYPE = "BUILD_GENERAL1_SMALL"
FREE_MINUTES = 100
RATES_REGION = "us-east-1"

OVERHEAD_MINUTES = Decimal("1")
"""What every build spends besides its commands: provisioning the build container, downloading the
source or input artifact, restoring and saving its cache, uploading its artifact."""

ASSUMED_MINUTES: Mapping[str, Decimal] = {
    # Measured on 2 vCPUs (as many as BUILD_GENERAL1_SMALL has), fresh clone, warm pip cache: `make
    # setup` with SETUP_PROFILE=build 83 s, `provisioner check` 6 s, `make scan` 116 s (synthesis of
    # the example environments, the checkov virtualenv built from the cache, checkov, the rules).
    "synth": OVERHEAD_MINUTES + Decimal("3.5"),
    "pr-synth": OVERHEAD_MINUTES + Decimal("3.5"),
    # terraform init from the build cache, then a plan that reads every resource of the stack.
    "plan": OVERHEAD_MINUTES + Decimal("1"),
    "devops-plan": OVERHEAD_MINUTES + Decimal("1.5"),
    # Applies wait for AWS: an S3 lifecycle configuration alone waits 55 s (the AWS provider's own wait).
    "apply": OVERHEAD_MINUTES + Decimal("2"),
    "devops-apply": OVERHEAD_MINUTES + Decimal("2"),
    # One plan per workload stack, one after the other.
    "drift": OVERHEAD_MINUTES + Decimal("3"),
    "pr-plan": OVERHEAD_MINUTES + Decimal("3"),
    "pr-comment": OVERHEAD_MINUTES + Decimal("0.5"),
    # A team's own commands (a post-deploy check): short, but the overhead is paid all the same.
    "team": OVERHEAD_MINUTES + Decimal("0.5"),
}
"""Minutes each kind of build is assumed to run, overhead included, before rounding up."""


def whole_minutes(minutes: Decimal, what: str) -> int:
    """``minutes`` (``what`` they are, for the error) as AWS bills them: rounded up to whole minutes, at least 1.
    CodeBuild bills a build so, CodePipeline V2 an action."""
    if not minutes.is_finite() or minutes <= 0:
        raise ValueError(f"{what} must be a number above 0, not {minutes}")
    return int(minutes.to_integral_value(rounding=ROUND_CEILING))


def billed_minutes(minutes: Decimal) -> int:
    """Whole minutes billed for a build of ``minutes``: rounded up, at least 1."""
    return whole_minutes(minutes, "build minutes")


@dataclass(frozen=True)
class CodeBuildBill:
    """A month of CodeBuild for one account: minutes by compute type, the free tier, the charge."""

    minutes_by_type: Mapping[str, int]
    free_minutes: int
    unpriced_minutes: int
    """Minutes of compute types without a rate here (priced on AWS's page, not included in ``usd``)."""
    usd: Decimal

    @property
    def build_minutes(self) -> int:
        return sum(self.minutes_by_type.values())

    @property
    def billed_minutes(self) -> int:
        return self.build_minutes - self.free_minutes - self.unpriced_minutes


def codebuild_bill(minutes_by_type: Mapping[str, int]) -> CodeBuildBill:
    """Charge for a month of build minutes, by compute type (``None`` or unknown: not priced)."""
    if any(minutes < 0 for minutes in minutes_by_type.values()):
        raise ValueError(f"build minutes cannot be negative ({dict(minutes_by_type)})")
    free = min(minutes_by_type.get(FREE_TIER_COMPUTE_TYPE, 0), FREE_MINUTES)
    usd = Decimal(0)
    unpriced = 0
    for compute_type, minutes in minutes_by_type.items():
        rate = PRICE_PER_MINUTE.get(compute_type or "")
        if rate is None:
            unpriced += minutes
            continue
        usd += (minutes - (free if compute_type == FREE_TIER_COMPUTE_TYPE else 0)) * rate
    return CodeBuildBill(dict(minutes_by_type), free, unpriced, usd)
