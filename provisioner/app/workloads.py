"""The team's workload code, found from ``workloads/workload.hcl`` and called once per environment."""

from __future__ import annotations

import importlib
from typing import Callable

from modules.workload import WorkloadEnvironment
from provisioner.configuration.naming import standard_tags
from provisioner.configuration.settings import EnvironmentConfig, ProjectConfig
from provisioner.errors import UserError
from provisioner.paths import importable_repository

Define = Callable[..., None]
"""``define(scope, environment: WorkloadEnvironment) -> None``."""


def entry_point(project: ProjectConfig) -> Define | None:
    """The function ``entry`` names, imported from the repository; None when the project declares no workload."""
    workload = project.workload
    if workload.entry is None:
        return None
    module_name, function_name = workload.entry.split(":")
    importable_repository()
    where = f'{workload.file}: entry "{workload.entry}"'
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UserError(f"{where}: cannot import {module_name}: {error}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise UserError(f"{where}: {module_name} has no function {function_name}")
    return function


def environment_of(project: ProjectConfig, environment: EnvironmentConfig) -> WorkloadEnvironment:
    """What the team's code is told about ``environment``."""
    prefix = project.devops.name_prefix
    return WorkloadEnvironment(
        name=environment.name,
        account_id=environment.account_id,
        region=environment.region,
        name_prefix=prefix,
        order=environment.order,
        tags=standard_tags(prefix, environment.name, dict(environment.tags)),
        partition=project.naming.partition,
        inputs=environment.inputs,
    )
