"""Colour on a terminal only, and never with NO_COLOR: errors red, passes and finished steps green, skips yellow."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from provisioner import cli
from provisioner.commands.doctor import diagnosis_text
from provisioner.operations.health import FAIL, PASS, SKIP, Check, Diagnosis
from provisioner.progress import Progress

RED, GREEN, YELLOW, RESET = "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[0m"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def no_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)


def _error_output(monkeypatch: pytest.MonkeyPatch, stderr: io.StringIO) -> str:
    monkeypatch.setattr(sys, "stderr", stderr)
    assert cli.main(["cost", "estimate", "--minutes-per-action", "0"]) == 2
    return stderr.getvalue()


def test_errors_are_red_on_a_terminal(monkeypatch) -> None:
    error = _error_output(monkeypatch, Terminal())
    assert error.startswith(f"{RED}provisioner: --minutes-per-action 0: ") and error.endswith(f"{RESET}\n")


def test_no_color_turns_colour_off(monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in _error_output(monkeypatch, Terminal())


def test_no_colour_when_the_output_is_not_a_terminal(monkeypatch) -> None:
    assert "\x1b[" not in _error_output(monkeypatch, io.StringIO())


def test_finished_steps_are_green_and_failed_ones_red_on_a_terminal(tmp_path: Path) -> None:
    out = Terminal()
    progress = Progress(tmp_path, out=out)
    with progress.step("works"):
        pass
    with pytest.raises(RuntimeError), progress.step("breaks"):
        raise RuntimeError
    lines = out.getvalue().splitlines()
    assert lines[1].startswith(f"    {GREEN}ok (") and lines[1].endswith(RESET)
    assert lines[3].startswith(f"    {RED}FAILED after ") and lines[3].endswith(RESET)


def test_doctor_colours_each_result_and_keeps_the_columns_aligned() -> None:
    diagnosis = Diagnosis(
        "123456789012", "us-east-1", None,
        (Check("credentials", "account 123456789012", PASS, "fine"), Check("pipeline", "acme-delivery", FAIL, "missing", "deploy"),
         Check("deployment role dev", "arn", SKIP, "not tried")),
    )  # fmt: skip
    plain = diagnosis_text(diagnosis, io.StringIO())
    coloured = diagnosis_text(diagnosis, Terminal())
    assert f"{GREEN}PASS{RESET}  credentials" in coloured
    assert f"{RED}FAIL{RESET}  pipeline" in coloured
    assert f"{YELLOW}SKIP{RESET}  deployment role dev" in coloured
    for colour in (GREEN, RED, YELLOW, RESET):
        coloured = coloured.replace(colour, "")
    assert coloured == plain
