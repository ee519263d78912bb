"""Errors meant for users: one line, no traceback, exit code 2."""

from __future__ import annotations

from dataclasses import dataclass


class UserError(Exception):
    """A problem with the user's input; ``str(error)`` is the whole message.

    Raised anywhere in the provisioner; the CLI prints it on one line and exits with ``exit_code``.
    """

    exit_code = 2

    def __init__(self, message: str, *, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Problem:
    """One problem of the configuration: where it is and what is wrong, as ``provisioner check`` reports it."""

    file: str | None
    """Relative to the repository; None when no file holds the cause (an empty environment variable)."""
    message: str
    """Starts with the field when there is one: ``account_id "1234" must be 12 digits``."""
    field: str | None = None
    line: int | None = None
    """None when the field is not written in the file (a required field left out)."""

    def __str__(self) -> str:
        if self.file is None:
            return self.message
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"

    def as_json(self) -> dict[str, str | int | None]:
        return {"file": self.file, "line": self.line, "field": self.field, "message": self.message}


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
