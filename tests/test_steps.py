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


# --- tools side by side ------------------------------------------------------------------------


def test_side_by_side_runs_at_most_jobs_at_once_labels_their_lines_and_keeps_the_items_order(tmp_path: Path) -> None:
    """Each tool notes when it starts and ends; three items two at a time never overlap three ways."""
    out = io.StringIO()
    progress = Progress(tmp_path / "logs", out=out)
    marks = tmp_path / "marks"
    marks.mkdir()
    code = (
        "import sys, time, pathlib; m = pathlib.Path(sys.argv[1]); (m / ('start-' + sys.argv[2])).write_text(str(time.time()));"
        "time.sleep(0.4); print('No changes. Your infrastructure matches the configuration.');"
        "(m / ('end-' + sys.argv[2])).write_text(str(time.time()))"
    )

    def plan(stack: str) -> str:
        progress.run(f"{stack} plan", [*script(code), str(marks), stack], cwd=tmp_path, env=tool_environment(), label=stack)
        return f"planned {stack}"

    stacks = ["workload-a", "workload-b", "workload-c"]
    assert progress.side_by_side(plan, stacks, jobs=2) == ["planned workload-a", "planned workload-b", "planned workload-c"]
    spans = {stack: (float((marks / f"start-{stack}").read_text()), float((marks / f"end-{stack}").read_text())) for stack in stacks}
    overlapping = [sum(start <= moment < end for start, end in spans.values()) for moment, _ in spans.values()]
    assert max(overlapping) == 2, spans  # two at once, never three
    shown = out.getvalue().splitlines()
    assert sorted(shown) == [f"    {stack}: No changes. Your infrastructure matches the configuration." for stack in stacks]
    assert sorted(path.name for path in (tmp_path / "logs").iterdir()) == [f"00-{stack}-plan.log" for stack in stacks]


def test_side_by_side_runs_every_item_and_raises_the_first_failure_in_the_items_order(tmp_path: Path) -> None:
    out = io.StringIO()
    progress = Progress(tmp_path / "logs", out=out)
    finished: list[str] = []

    def plan(stack: str) -> None:
        code = "import sys; print('Error: no credentials'); sys.exit(1)" if stack != "workload-c" else "import time; time.sleep(0.3)"
        try:
            progress.run(f"{stack} plan", script(code), cwd=tmp_path, env=tool_environment(), label=stack)
        finally:
            finished.append(stack)

    with pytest.raises(StepFailed, match='step "workload-a plan" failed'):
        progress.side_by_side(plan, ["workload-a", "workload-b", "workload-c"], jobs=3)
    assert sorted(finished) == ["workload-a", "workload-b", "workload-c"]
    shown = out.getvalue()
    # Each failure's tail is one block, labelled with its stack: two tools' lines never mix.
    for stack in ("workload-a", "workload-b"):
        assert f"    {stack}: {sys.executable} exited 1; last lines of its output:\n    {stack}: | Error: no credentials\n" in shown


def test_an_interrupted_side_by_side_run_stops_the_tools_still_running(tmp_path: Path) -> None:
    """Ctrl-C (or SIGTERM raised as an exception) in the waiting thread: each tool still running gets SIGINT, which
    terraform takes as "stop and release the lock", no next tool starts, and the interruption goes on once they ended."""
    import signal
    import threading
    import time

    progress = Progress(tmp_path / "logs", out=io.StringIO())
    stacks = ["workload-a", "workload-b"]
    code = (
        "import signal, sys, time, pathlib\n"
        "mark = pathlib.Path(sys.argv[1])\n"
        "signal.signal(signal.SIGINT, lambda *_: (mark.write_text('interrupted'), sys.exit(130)))\n"
        "mark.write_text('ready')\n"
        "time.sleep(60)\n"
    )

    def plan(stack: str) -> None:
        progress.run(f"{stack} plan", [*script(code), str(tmp_path / stack)], cwd=tmp_path, env=tool_environment(), accept=(0, 130))
        # The stack's next step: never started once the run was interrupted.
        progress.run(f"{stack} show", script(f"import pathlib; pathlib.Path({str(tmp_path / (stack + '.show'))!r}).write_text('started')"),
                     cwd=tmp_path, env=tool_environment())  # fmt: skip

    def interrupt() -> None:
        deadline = time.monotonic() + 30
        while not all((tmp_path / stack).is_file() for stack in stacks) and time.monotonic() < deadline:
            time.sleep(0.05)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    # A test run started in the background inherits SIGINT ignored (and Python keeps ignoring it): Ctrl-C's own handler.
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Thread(target=interrupt, daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            progress.side_by_side(plan, stacks, jobs=2)
    finally:
        signal.signal(signal.SIGINT, before)
    assert (tmp_path / "workload-a").read_text() == "interrupted"
    assert (tmp_path / "workload-b").read_text() == "interrupted"
    assert not list(tmp_path.glob("*.show")), "no tool starts after the interruption"
    # The next run of the same Progress starts tools again.
    assert progress.run("after", script("print('ok')"), cwd=tmp_path, env=tool_environment()).output == "ok\n"
