"""The team's workload: its entry point and inputs (``workloads/workload.hcl``), and a product whose
output does not depend on what the team declares."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from provisioner.configuration.settings import load
from provisioner.errors import ConfigErrors, UserError
from provisioner.paths import REPO_ROOT
from tests.conftest import EXAMPLE_ENVIRONMENTS, Synthesized, _synthesize, run_terraform
from tests.test_config import DEVOPS, env_hcl, without_line, write_config

OTHER_WORKLOAD = Path(__file__).parent / "workloads" / "workload.hcl"


def write_workload(root: Path, text: str) -> Path:
    path = root / "workloads" / "workload.hcl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def workload_problems(root: Path, workload: str, envs: dict[str, str] | None = None) -> list[str]:
    environments = write_config(root, DEVOPS, envs or {"dev": env_hcl()})
    with pytest.raises(ConfigErrors) as caught:
        load(environments, workload_file=write_workload(root, workload), repo_root=root)
    return [without_line(line) for line in caught.value.problems]


SAMPLE = 'entry = "examples.workloads.sample:define"\ninput "days" {\n  type = number\n  default = 90\n}\n'


# --- inputs -------------------------------------------------------------------------------------
def test_inputs_default_and_are_set_per_environment(tmp_path: Path) -> None:
    envs = {"dev": env_hcl(), "prod": env_hcl(extra="inputs = {\n  days = 365\n}\n")}
    environments = write_config(tmp_path, DEVOPS, envs)
    project = load(environments, workload_file=write_workload(tmp_path, SAMPLE))
    assert {env.name: dict(env.inputs) for env in project.environments} == {"dev": {"days": 90}, "prod": {"days": 365}}
    assert project.workload.entry == "examples.workloads.sample:define"


def test_typed_inputs_of_every_kind(tmp_path: Path) -> None:
    workload = (
        'entry = "examples.workloads.sample:define"\n'
        'input "name" {\n  type = string\n  default = "a"\n}\n'
        'input "on" {\n  type = bool\n  default = false\n}\n'
        'input "zones" {\n  type = "list(string)"\n  default = []\n}\n'
        'input "labels" {\n  type = "map(string)"\n  default = {}\n}\n'
    )
    extra = 'inputs = {\n  name = "b"\n  on = true\n  zones = ["x", "y"]\n  labels = { team = "core" }\n}\n'
    environments = write_config(tmp_path, DEVOPS, {"dev": env_hcl(extra=extra)})
    (dev,) = load(environments, workload_file=write_workload(tmp_path, workload)).environments
    assert dev.inputs["name"] == "b" and dev.inputs["on"] is True
    assert dev.inputs["zones"] == ("x", "y") and dict(dev.inputs["labels"]) == {"team": "core"}


def test_an_undeclared_or_mistyped_input_names_file_and_field(tmp_path: Path) -> None:
    extra = 'inputs = {\n  dayz = 30\n  days = "many"\n}\n'
    assert workload_problems(tmp_path, SAMPLE, {"dev": env_hcl(extra=extra)}) == [
        'environments/dev/environment.hcl: inputs.dayz is not an input declared in workloads/workload.hcl (did you mean "days"?)',
        'environments/dev/environment.hcl: inputs.days must be a number, got string "many"',
    ]


def test_every_input_has_a_default_of_its_type(tmp_path: Path) -> None:
    workload = 'entry = "examples.workloads.sample:define"\ninput "a" {\n  type = number\n}\ninput "b" {\n  type = bool\n  default = "yes"\n}\n'
    assert workload_problems(tmp_path, workload) == [
        'workloads/workload.hcl: input "a".default is required: every input has a default, so a new environment works before it sets the input',
        'workloads/workload.hcl: input "b".default must be a bool, got string "yes"',
    ]


def test_the_entry_must_name_a_module_that_exists(tmp_path: Path) -> None:
    assert workload_problems(tmp_path, 'entry = "examples.workloads.nothing_here:define"\n') == [
        f'workloads/workload.hcl: entry "examples.workloads.nothing_here:define": no module examples.workloads.nothing_here in {REPO_ROOT} '
        "(a file examples/workloads/nothing_here.py, or a package folder)"
    ]
    assert workload_problems(tmp_path / "2", 'entry = "sample.define"\n') == [
        'workloads/workload.hcl: entry "sample.define" must be module:function, for example workloads.sample:define'
    ]


def test_without_a_workload_file_the_workload_stacks_are_empty(tmp_path: Path) -> None:
    environments = write_config(tmp_path, DEVOPS, {"dev": env_hcl()})
    project = load(environments, workload_file=tmp_path / "workloads" / "workload.hcl")
    assert project.workload.entry is None and dict(project.environments[0].inputs) == {}


# --- steps around the apply ---------------------------------------------------------------------
def test_steps_are_read_with_their_commands(tmp_path: Path) -> None:
    extra = 'step "smoke-test" {\n  when = "after-apply"\n  commands = ["./check.sh", "echo done"]\n  timeout_minutes = 15\n}\n'
    environments = write_config(tmp_path, DEVOPS, {"dev": env_hcl(extra=extra)})
    (dev,) = load(environments, workload_file=write_workload(tmp_path, SAMPLE)).environments
    (step,) = dev.steps
    assert (step.name, step.when, step.commands, step.timeout_minutes) == ("smoke-test", "after-apply", ("./check.sh", "echo done"), 15)


def test_bad_steps_name_file_and_field(tmp_path: Path) -> None:
    extra = (
        'step "apply" {\n  when = "after-apply"\n  commands = ["x"]\n}\n'
        'step "late" {\n  when = "later"\n  commands = ["x"]\n}\n'
        'step "empty" {\n  when = "before-apply"\n}\n'
    )
    assert workload_problems(tmp_path, SAMPLE, {"dev": env_hcl(extra=extra)}) == [
        'environments/dev/environment.hcl: step "apply": the name is one of the pipeline\'s own actions (plan, apply, approve, synth); choose another',
        'environments/dev/environment.hcl: step "late".when "later" must be one of before-apply, after-apply',
        'environments/dev/environment.hcl: step "empty".commands is required: the shell commands the step runs',
    ]


# --- the product's output does not depend on the team's workload ----------------------------------
@pytest.fixture(scope="module")
def other_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The example environments with a workload unlike the example's."""
    root = tmp_path_factory.mktemp("other-workload")
    environments = shutil.copytree(EXAMPLE_ENVIRONMENTS, root / "environments")
    for path in environments.glob("*/environment.hcl"):  # the example's inputs are not this workload's
        path.write_text(re.sub(r"\ninputs = \{.*?\n\}\n", "\n", path.read_text(), flags=re.S))
    project = load(environments, workload_file=OTHER_WORKLOAD)
    return _synthesize(project, root / "cdktf.out")


def product_part(stack: dict) -> dict:
    """A workload stack without what the team's code declares (its resources and outputs)."""
    kept = {key: value for key, value in stack.items() if key not in ("resource", "output")}
    kept["//"] = {key: value for key, value in stack["//"].items() if key != "outputs"}
    return kept


def test_product_stacks_are_identical_whatever_the_workload(other_synth: Synthesized, example_synth: Synthesized) -> None:
    """Same environments, another workload: the devops and bootstrap stacks do not change by a byte, and
    the workload stacks differ only in the team's own resources and outputs."""
    assert sorted(other_synth.stacks) == sorted(example_synth.stacks)
    for name, stack in other_synth.stacks.items():
        ours = example_synth.stacks[name]
        if name.startswith("workload-"):
            assert product_part(stack) == product_part(ours), name
            assert set(stack["resource"]) == {"aws_sqs_queue"}, name
        else:
            assert stack == ours, f"{name} depends on the team's workload"


def test_another_workload_validates_and_passes_the_policy_gate(other_synth: Synthesized, terraform_env, checkov: Path, tmp_path: Path) -> None:
    from provisioner.policy_gate import gate

    workload_stacks = [name for name in other_synth.stacks if name.startswith("workload-")]
    for name in workload_stacks:
        shutil.copytree(other_synth.outdir / "stacks" / name, tmp_path / "stacks" / name)
        run_terraform(["init", "-backend=false", "-input=false", "-no-color"], tmp_path / "stacks" / name, terraform_env)
        assert "The configuration is valid" in run_terraform(["validate", "-no-color"], tmp_path / "stacks" / name, terraform_env).stdout
    report = gate.scan(tmp_path / "stacks", checkov, gate.SKIPS_FILE, tmp_path / "reports")
    assert report.stacks == sorted(workload_stacks) and report.ok, gate.finding_lines(report)


def test_inputs_reach_the_workload_code(other_synth: Synthesized) -> None:
    for env in other_synth.project.environments:
        queues = other_synth.stacks[env.workload_stack]["resource"]["aws_sqs_queue"]
        (orders,) = [q for q in queues.values() if q["name"].endswith("-orders")]
        assert orders["visibility_timeout_seconds"] == env.inputs["visibility_timeout_seconds"] == 60


def test_a_workload_entry_that_fails_to_import_is_one_line(tmp_path: Path) -> None:
    from provisioner.app.workloads import entry_point

    environments = write_config(tmp_path, DEVOPS, {"dev": env_hcl()})
    project = load(environments, workload_file=write_workload(tmp_path, 'entry = "examples.workloads.sample:no_such_function"\n'))
    with pytest.raises(UserError) as caught:
        entry_point(project)
    assert str(caught.value) == (
        f'{project.workload.file}: entry "examples.workloads.sample:no_such_function": examples.workloads.sample has no function no_such_function'
    )


def test_the_workload_stack_json_names_no_workload_file(other_synth: Synthesized) -> None:
    """The team's code is called, not copied: nothing of workload.hcl leaks into a stack but its effect."""
    text = json.dumps(other_synth.stacks)
    assert "workload.hcl" not in text and "tests.workloads" not in text


def test_a_step_whose_role_name_iam_would_refuse_is_refused_at_check(tmp_path: Path) -> None:
    """``<prefix>-step-<name>-build-<env>`` must fit IAM's 64 characters: measured before anything is synthesized."""
    prefix, env = "p" * 20, "e" * 20
    step = 'step "sixteen-chars-ok" {\n  when = "after-apply"\n  commands = ["true"]\n}\n'
    environments = write_config(tmp_path, DEVOPS.replace('"acme"', f'"{prefix}"'), {env: env_hcl(extra=step)})
    with pytest.raises(ConfigErrors) as caught:
        load(environments, workload_file=write_workload(tmp_path, SAMPLE))
    role = f"{prefix}-step-sixteen-chars-ok-build-{env}"
    assert any(role in line and "64" in line for line in caught.value.problems), caught.value.problems
    assert all(without_line(line).startswith(f"environments/{env}/environment.hcl: ") for line in caught.value.problems), caught.value.problems
