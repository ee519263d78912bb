"""``WorkloadEnvironment``: what a team's workload code is told about the environment it declares.

The team's entry point (``entry`` in ``workloads/workload.hcl``) is called once per environment,
inside the ``workload-<env>`` stack, as ``define(scope, environment)``. The stack's AWS provider already
acts in ``environment.account_id`` and ``environment.region`` through the pipeline's roles, and tags
every resource with ``environment.tags``; the code adds resources to ``scope``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping


@dataclass(frozen=True)
class WorkloadEnvironment:
    """One workload environment, as ``environments/<name>/environment.hcl`` declares it."""

    name: str
    """The environment's folder name (``dev``, ``prod``)."""
    account_id: str
    """The workload account the stack deploys into."""
    region: str
    name_prefix: str
    """The project's ``name_prefix`` (devops.hcl): start globally unique names with it."""
    order: int = 1
    """The environment's wave: lower orders deploy first."""
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Tags the provider already puts on every resource (the project's, the environment's)."""
    partition: str = "aws"
    """The ARN partition of the installation (``aws-cn`` in China, ``aws-us-gov`` in GovCloud): pass it to the
    constructs' ``partition`` props."""
    inputs: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """Every input declared in ``workloads/workload.hcl``: this environment's value, else the default.
    Lists arrive as tuples and maps as read-only mappings."""

    def __post_init__(self) -> None:
        if not (len(self.account_id) == 12 and self.account_id.isdigit()):
            raise ValueError(f'WorkloadEnvironment.account_id "{self.account_id}" must be 12 digits')
        if not self.name or not self.name_prefix:
            raise ValueError("WorkloadEnvironment.name and name_prefix must not be empty")
