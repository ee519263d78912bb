"""``PROVISIONER_TARGET``: output for real AWS carries nothing of the emulator; output for it carries all it needs."""

from __future__ import annotations

import ast
import json
import subprocess
import os
from pathlib import Path

import pytest

from provisioner.app.stacks.common import ENDPOINT_ALIASES
from provisioner.configuration.target import Target, target_from_environment
from provisioner.errors import UserError
from provisioner.paths import REPO_ROOT
from tests.conftest import Synthesized

ENDPOINT = "http://127.0.0.1:45999"
EMULATOR_KEYS = ("endpoints", "access_key", "secret_key", "use_path_style", "s3_use_path_style")


@pytest.fixture(scope="session")
def local_synth(example_synth: Synthesized, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The repository's environments again, for the emulator (and devops on a local bootstrap state file)."""
    from provisioner.app.synthesis import synthesize

    outdir = tmp_path_factory.mktemp("local-synth") / "cdktf.out"
    synthesize(example_synth.project, outdir, Target.local(ENDPOINT))
    return Synthesized(example_synth.project, outdir)


def providers(stack: dict) -> list[dict]:
    return stack["provider"]["aws"]


def test_output_for_aws_has_no_endpoint_test_credential_or_skip_flag(example_synth: Synthesized) -> None:
    for name, stack in example_synth.stacks.items():
        text = json.dumps(stack)
        assert "127.0.0.1" not in text and "localhost" not in text, name
        assert '"test"' not in text, name
        for block in [*providers(stack), stack["terraform"]["backend"]["s3"]]:
            assert not [key for key in block if key.startswith("skip_") or key in EMULATOR_KEYS], f"{name}: {sorted(block)}"


def test_output_for_the_emulator_points_every_service_and_the_backend_at_it(local_synth: Synthesized) -> None:
    for name, stack in local_synth.stacks.items():
        (provider,) = providers(stack)
        (endpoints,) = provider["endpoints"]
        assert set(endpoints.values()) == {ENDPOINT}, name
        # What the stacks use, and what a team's workload may use: every service, no alias twice.
        assert {"s3", "sts", "iam", "kms", "codepipeline", "codebuild", "logs", "events", "sqs", "lambda", "dynamodb"} <= set(endpoints), name
        assert not set(endpoints) & ENDPOINT_ALIASES, name
        assert len(endpoints) == 303 - len(ENDPOINT_ALIASES), name
        assert (provider["access_key"], provider["secret_key"]) == ("test", "test")
        assert provider["skip_credentials_validation"] is True and provider["s3_use_path_style"] is True
        assert provider["allowed_account_ids"], "the account guard stays on against the emulator"
        backend = stack["terraform"]["backend"]["s3"]
        assert backend["endpoints"] == {"s3": ENDPOINT, "sts": ENDPOINT, "iam": ENDPOINT}
        assert backend["use_path_style"] is True and backend["use_lockfile"] is True
        assert (backend["access_key"], backend["skip_requesting_account_id"]) == ("test", True)


def test_only_the_resources_differ_in_nothing(example_synth: Synthesized, local_synth: Synthesized) -> None:
    """The emulator changes where stacks deploy, never what they declare."""
    for name in example_synth.stacks:
        assert local_synth.stacks[name]["resource"] == example_synth.stacks[name]["resource"], name


def test_workload_stacks_still_assume_the_role_variable_locally(local_synth: Synthesized) -> None:
    """Locally too, the role comes from the ephemeral variable: plans pass the plan role, applies the deployment role."""
    for env in local_synth.project.environments:
        stack = local_synth.stacks[env.workload_stack]
        (provider,) = providers(stack)
        assert provider["assume_role"][0]["role_arn"] == "${var.workload_role_arn}"
        assert stack["variable"]["workload_role_arn"]["default"] == local_synth.project.plan_role_arn(env)


def test_devops_local_state_is_a_local_backend(example_synth: Synthesized, tmp_path: Path) -> None:
    from provisioner.app.synthesis import build_app

    state = tmp_path / "devops.tfstate"
    app = build_app(example_synth.project, tmp_path / "out", Target(devops_local_state=state))
    app.synth()
    devops = json.loads((tmp_path / "out" / "stacks" / "devops" / "cdk.tf.json").read_text())
    assert devops["terraform"]["backend"] == {"local": {"path": str(state)}}
    dev = json.loads((tmp_path / "out" / "stacks" / "workload-dev" / "cdk.tf.json").read_text())
    assert "s3" in dev["terraform"]["backend"], "only devops keeps its state locally while bootstrapping"


def test_target_switch_rejects_unknown_values_and_a_missing_emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UserError, match='PROVISIONER_TARGET="staging" must be "aws" or "local"'):
        target_from_environment({"PROVISIONER_TARGET": "staging"})
    assert target_from_environment({}) == Target()
    assert target_from_environment({"PROVISIONER_TARGET": "local", "PROVISIONER_AWS_ENDPOINT": ENDPOINT}).endpoint == ENDPOINT
    monkeypatch.setattr("provisioner.configuration.target.LOCAL_AWS_FILE", tmp_path / "local-aws.json")
    monkeypatch.delenv("PROVISIONER_AWS_ENDPOINT", raising=False)
    with pytest.raises(UserError, match="start one with `provisioner local-aws start`"):
        target_from_environment({"PROVISIONER_TARGET": "local"})


def test_a_target_names_itself_to_the_processes_it_starts(tmp_path: Path) -> None:
    """``cdktf deploy`` runs ``main.py``, which reads the target again: from what ``environment()`` gives it."""
    for target in (Target(), Target.local(ENDPOINT), Target.local(ENDPOINT, devops_local_state=tmp_path / "devops.tfstate")):
        assert target_from_environment(target.environment()) == target


def test_synthesizing_for_the_emulator_leaves_the_process_environment_alone(example_synth: Synthesized, tmp_path: Path) -> None:
    """The target travels as a value: nothing is set in ``os.environ`` for it (conftest has already made the
    framework's own process settings, ``runtime.prepare_environment``, which synthesis would make once)."""
    from provisioner.app.synthesis import synthesize

    before = dict(os.environ)
    synthesize(example_synth.project, tmp_path / "cdktf.out", Target.local(ENDPOINT))
    assert dict(os.environ) == before


def imports_of(module: str) -> set[str]:
    """The project modules ``module`` imports (at its top or inside functions), packages included."""
    path = REPO_ROOT / (module.replace(".", "/") + ".py")
    tree = ast.parse((path if path.is_file() else path.with_suffix("") / "__init__.py").read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{module}: relative import"
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    found = set()
    for name in names:
        parts = name.split(".")
        for end in range(1, len(parts) + 1):
            candidate = ".".join(parts[:end])
            base = REPO_ROOT.joinpath(*parts[:end])
            if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
                found.add(candidate)
    return found


def import_closure(roots: set[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(imports_of(module) - seen)
    return seen


def test_the_stacks_never_import_the_emulator_package() -> None:
    """The emulator's endpoint and credentials reach the stacks in the ``Target`` value, never by import."""
    stacks = {f"provisioner.app.stacks.{path.stem}" for path in (REPO_ROOT / "provisioner" / "app" / "stacks").glob("*.py")}
    closure = import_closure(stacks)
    assert "provisioner.configuration.target" in closure and "modules.framework" in closure, "the graph is followed"
    assert not {name for name in closure if name == "provisioner.local_aws" or name.startswith("provisioner.local_aws.")}


def test_the_emulators_provider_settings_draw_no_warning_from_the_provider(local_synth: Synthesized, terraform_env, tmp_path: Path) -> None:
    """Every endpoint once: the provider warns when an endpoint and its alias are both set (an error to come)."""
    from tests.conftest import run_terraform

    stack = local_synth.stacks["workload-dev"]
    (tmp_path / "main.tf.json").write_text(json.dumps({"terraform": {"required_providers": stack["terraform"]["required_providers"]}, "provider": stack["provider"]}))
    run_terraform(["init", "-input=false", "-no-color"], tmp_path, terraform_env)
    plan = subprocess.run(["terraform", "plan", "-json", "-refresh=false", "-input=false"], cwd=tmp_path, env=terraform_env, capture_output=True, text=True, check=False)
    diagnostics = [json.loads(line)["diagnostic"] for line in plan.stdout.splitlines() if '"diagnostic"' in line]
    assert not [d for d in diagnostics if d["severity"] == "warning" and "endpoints" in json.dumps(d)], diagnostics[:3]
