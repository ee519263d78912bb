"""Errors meant for users: one line, no traceback, exit code 2."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from provisioner.configuration.settings import Problem


class UserError(Exception):
    """A problem with the user's input; ``str(error)`` is the whole message.

    Raised anywhere in the provisioner; the CLI prints it on one line and exits with ``exit_code``.
    """

    exit_code = 2

    def __init__(self, message: str, *, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ConfigErrors(UserError):
    """Every problem found in ``environments/``, reported together."""

    def __init__(self, problems: list[Problem]) -> None:
        self.details = list(problems)
        self.problems = [str(problem) for problem in self.details]
        """Each problem as one line, as printed: ``file:line: message``."""
        super().__init__("\n".join(self.problems))


def error_lines(error: UserError) -> list[str]:
    """What users see of ``error``: one ``provisioner: ...`` line per problem."""
    return [f"provisioner: {line}" for line in str(error).splitlines() or [type(error).__name__]]
