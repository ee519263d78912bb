"""What several commands share: the ``--environment`` selection."""

from __future__ import annotations

from typing import TYPE_CHECKING

from provisioner.errors import UserError

if TYPE_CHECKING:
    from provisioner.configuration.settings import EnvironmentConfig, ProjectConfig


def selected_environments(project: ProjectConfig, names: list[str] | None) -> list[EnvironmentConfig]:
    """The environments ``--environment`` names (all of them without it); a name that is none is bad input."""
    known = {env.name for env in project.environments}
    unknown = sorted(set(names or ()) - known)
    if unknown:
        raise UserError(f"--environment {', '.join(unknown)}: no such environment (known: {', '.join(sorted(known))})")
    return [env for env in project.environments if not names or env.name in names]
