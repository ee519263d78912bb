"""``provisioner.progress``: progress lines per step, tool output in logs, a failing step named with its output's tail."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from provisioner.progress import Progress, StepFailed, tool_environment


def script(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_step_prints_its_title_and_duration_and_shows_terraform_verdicts(tmp_path: Path) -> None:
    out = io.StringIO()
    progress = Progress(tmp_path / "logs", out=out)
    with progress.step("plan the stack"):
        result = progress.run("plan", script("print('Refreshing...'); print('Plan: 1 to add, 0 to change, 0 to destroy.')"), cwd=tmp_path, env=tool_environment())
    lines = out.getvalue().splitlines()
    assert lines[0] == "==> plan the stack"
    assert lines[1] == "    Plan: 1 to add, 0 to change, 0 to destroy."
    assert lines[2].startswith("    ok (") and lines[2].endswith(" s)")
    assert "Refreshing..." in result.output
    log = (tmp_path / "logs" / "01-plan.log").read_text()
    assert log.startswith("$ (cd ") and "Refreshing..." in log


def test_a_failing_tool_names_the_step_shows_the_tail_and_keeps_the_log(tmp_path: Path) -> None:
    out = io.StringIO()
    progress = Progress(tmp_path / "logs", out=out)
    code = "import sys\nfor i in range(40): print(f'line {i}')\nprint('Error: no credentials', file=sys.stderr)\nsys.exit(3)"
    with pytest.raises(StepFailed) as failed:
        with progress.step("terraform apply"):
            progress.run("terraform apply", script(code), cwd=tmp_path, env=tool_environment())
    log = tmp_path / "logs" / "01-terraform-apply.log"
    assert str(failed.value) == f'step "terraform apply" failed (exit 3); full output: {log}'
    shown = out.getvalue()
    assert "| Error: no credentials" in shown and "| line 39" in shown and "| line 5\n" not in shown
    assert "FAILED after" in shown
    assert "line 0" in log.read_text()


def test_accepted_exit_codes_and_standard_output_to_a_file(tmp_path: Path) -> None:
    progress = Progress(tmp_path / "logs", out=io.StringIO())
    target = tmp_path / "plan.json"
    result = progress.run(
        "show", script("import sys; print('{}'); print('warning', file=sys.stderr); sys.exit(2)"),
        cwd=tmp_path, env=tool_environment(), stdout_path=target, accept=(0, 2),
    )  # fmt: skip
    assert result.returncode == 2
    assert target.read_text() == "{}\n"
    assert result.output == "warning\n"


def test_a_missing_tool_says_how_to_get_it(tmp_path: Path) -> None:
    progress = Progress(tmp_path / "logs", out=io.StringIO())
    with pytest.raises(StepFailed, match="no-such-tool-here not found; run `make setup`"):
        progress.run("tool", ["no-such-tool-here"], cwd=tmp_path, env=tool_environment())


def test_tool_environment_never_prompts_and_shares_the_provider_cache(tmp_path: Path) -> None:
    env = tool_environment({"PATH": "/usr/bin", "HOME": str(tmp_path)}, TF_PLUGIN_CACHE_DIR=str(tmp_path / "cache"))
    assert (env["TF_IN_AUTOMATION"], env["TF_INPUT"], env["CHECKPOINT_DISABLE"]) == ("1", "0", "1")
    assert env["TF_PLUGIN_CACHE_DIR"] == str(tmp_path / "cache") and (tmp_path / "cache").is_dir()
