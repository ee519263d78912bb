"""``provisioner.buildspecs``: what each CodeBuild project runs (plan a saved file, apply exactly it)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from provisioner import buildspecs

STACK = "workload-dev"
REPO_ROOT = Path(__file__).resolve().parents[2]


def load(text: str) -> dict:
    spec = yaml.safe_load(text)
    assert spec["version"] == 0.2
    return spec


def build_commands(text: str) -> list[str]:
    return load(text)["phases"]["build"]["commands"]


def index_of(commands: list[str], pattern: str) -> int:
    matches = [i for i, command in enumerate(commands) if re.search(pattern, command)]
    assert len(matches) == 1, f"expected one command matching {pattern!r}, found {len(matches)}: {commands}"
    return matches[0]


# --- plan ----------------------------------------------------------------------------------------
def test_plan_saves_the_plan_shows_it_as_json_and_summarizes_it() -> None:
    commands = build_commands(buildspecs.plan(STACK))
    cd = index_of(commands, rf'^cd "cdktf\.out/stacks/{STACK}"$')
    init = index_of(commands, r"^terraform init\b")
    plan = index_of(commands, r"^terraform plan\b.* -out=tfplan$")
    show = index_of(commands, r"^terraform show -json tfplan > plan\.json$")
    summary = index_of(commands, r"-m provisioner plan-summary --name \"\$STACK\" plan\.json \| tee plan-summary\.md$")
    assert cd < init < plan < show < summary
    assert "-input=false" in commands[plan]


def test_plan_exports_the_headline_and_build_url_for_the_approval() -> None:
    spec = load(buildspecs.plan(STACK))
    assert spec["env"]["exported-variables"] == ["PLAN_HEADLINE", "PLAN_BUILD_URL"]
    commands = spec["phases"]["build"]["commands"]
    headline = index_of(commands, r'^PLAN_HEADLINE="\$\(.*plan-summary --format headline .*plan\.json\)"$')
    export = index_of(commands, r'^export PLAN_HEADLINE PLAN_BUILD_URL="\$CODEBUILD_BUILD_URL"$')
    assert headline < export


def test_plan_artifact_holds_the_saved_plan_summary_and_commit_but_not_plan_json() -> None:
    spec = load(buildspecs.plan(STACK))
    assert spec["env"]["variables"]["STACK"] == STACK
    artifacts = spec["artifacts"]
    assert artifacts["base-directory"] == f"cdktf.out/stacks/{STACK}"
    assert {"tfplan", "plan-summary.md", "plan-commit-id", "cdk.tf.json", ".terraform.lock.hcl"} <= set(artifacts["files"])
    assert not any("plan.json" in f or "*" in f for f in artifacts["files"]), "plan.json holds variable values in clear text"
    commands = spec["phases"]["build"]["commands"]
    record = index_of(commands, r'^printf "%s" "\$COMMIT_ID" > plan-commit-id$')
    remove = index_of(commands, r"^rm -f plan\.json$")
    assert record < remove == len(commands) - 1


# --- apply ---------------------------------------------------------------------------------------
def test_apply_applies_the_saved_plan_and_never_plans_again() -> None:
    text = buildspecs.apply(STACK)
    commands = build_commands(text)
    assert "terraform plan" not in text
    apply = index_of(commands, r"^terraform apply\b")
    assert commands[apply].split()[-1] == "tfplan", "apply must take the saved plan file"
    assert "-auto-approve" not in commands[apply], "a saved plan needs no approval flag; -auto-approve hints at a re-plan"
    assert apply == len(commands) - 1


def test_apply_installs_exactly_the_locked_providers() -> None:
    commands = build_commands(buildspecs.apply(STACK))
    init = index_of(commands, r"^terraform init\b")
    assert "-lockfile=readonly" in commands[init].split()
    assert init < index_of(commands, r"^terraform apply\b")


def test_apply_checks_the_commit_before_anything_else() -> None:
    commands = build_commands(buildspecs.apply(STACK))
    check = index_of(commands, r"plan-commit-id")
    assert check == 0
    assert "$COMMIT_ID" in commands[check]


@pytest.mark.parametrize(("planned", "released", "code"), [("abc123", "abc123", 0), ("abc123", "def456", 1), ("", "def456", 1)])
def test_apply_commit_check_refuses_a_plan_made_for_another_commit(tmp_path: Path, planned: str, released: str, code: int) -> None:
    check = build_commands(buildspecs.apply(STACK))[0]
    (tmp_path / "plan-commit-id").write_text(planned)
    result = subprocess.run(["bash", "-c", check], cwd=tmp_path, env={"COMMIT_ID": released, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert result.returncode == code, result.stderr
    if code:
        assert f"refusing to apply: the plan was made for commit {planned}, this release is {released}" in result.stderr


def test_apply_has_no_artifacts_and_runs_in_the_plan_artifact() -> None:
    spec = load(buildspecs.apply(STACK))
    assert "artifacts" not in spec
    assert not any(command.startswith("cd ") for command in spec["phases"]["build"]["commands"])


# --- synth ---------------------------------------------------------------------------------------
def makefile_prerequisites(target: str) -> list[str]:
    match = re.search(rf"^{re.escape(target)}:([^#\n]*)", (REPO_ROOT / "Makefile").read_text(), re.M)
    assert match, f"Makefile has no {target} target"
    return match.group(1).split()


def test_synth_checks_the_configuration_then_runs_the_policy_gate() -> None:
    commands = build_commands(buildspecs.synth("make scan"))
    check = index_of(commands, r"-m provisioner check$")
    gate = index_of(commands, r"^make scan$")
    assert check < gate == len(commands) - 1


def test_the_policy_gate_synthesizes_before_it_scans() -> None:
    """The synth build runs only the gate target; it must make ``synth`` first (else it scans stale or no output)."""
    commands = build_commands(buildspecs.synth("make scan"))
    synthesizes = "make synth" in commands[: index_of(commands, r"^make scan$")]
    assert synthesizes or "synth" in makefile_prerequisites("scan")


def test_synth_artifact_leaves_out_virtualenvs_node_modules_and_terraform_folders() -> None:
    artifacts = load(buildspecs.synth("make scan"))["artifacts"]
    assert artifacts["files"] == ["**/*"]
    assert {".venv/**/*", ".venv-checkov/**/*", "node_modules/**/*", ".git/**/*", "**/.terraform/**/*"} <= set(artifacts["exclude-paths"])


def test_the_policy_gate_the_devops_stack_runs_is_a_makefile_target() -> None:
    from provisioner.stacks.devops import POLICY_GATE_COMMAND

    assert POLICY_GATE_COMMAND.startswith("make ")
    makefile_prerequisites(POLICY_GATE_COMMAND.split()[1])


# --- every buildspec -----------------------------------------------------------------------------
@pytest.mark.parametrize("text", [buildspecs.synth("make scan"), buildspecs.plan(STACK), buildspecs.apply(STACK)], ids=["synth", "plan", "apply"])
def test_terraform_is_pinned_and_checked_against_its_checksums(text: str) -> None:
    spec = load(text)
    assert spec["env"]["variables"]["TERRAFORM_VERSION"] == buildspecs.TERRAFORM_VERSION == "1.11.4"
    assert spec["env"]["variables"]["CHECKPOINT_DISABLE"] == "1"
    install = " ".join(spec["phases"]["install"]["commands"])
    assert "sha256sum -c" in install and "SHA256SUMS" in install


PLAN_ROLES = {
    "workload-dev": "arn:aws:iam::222222222222:role/acme-plan-dev",
    "workload-prod": "arn:aws:iam::444444444444:role/acme-plan-prod",
}


def test_pull_request_plans_never_apply() -> None:
    text = buildspecs.pr_plan(PLAN_ROLES, "acme/infra", None)
    assert "terraform apply" not in text and "apply" not in " ".join(build_commands(text)).split()
    commands = build_commands(text)
    for stack in PLAN_ROLES:
        index_of(commands, rf'^\(cd "cdktf\.out/stacks/{stack}" && terraform init .*terraform plan .*terraform show -json tfplan > plan\.json\)$')
    assert load(text)["artifacts"]["files"] == ["plan-summary.md"]


def test_pull_request_plans_assume_each_stacks_plan_role_without_a_lock() -> None:
    """The read-only build role can neither write a lock file nor assume a deployment role."""
    commands = build_commands(buildspecs.pr_plan(PLAN_ROLES, "acme/infra", None))
    for stack, role in PLAN_ROLES.items():
        plan = commands[index_of(commands, rf'^\(cd "cdktf\.out/stacks/{stack}" && ')]
        terraform_plan = plan.split(" && ")[2]
        assert terraform_plan.startswith("terraform plan ")
        arguments = terraform_plan.split()
        assert "-lock=false" in arguments, stack
        assert not any(a.startswith("-lock-timeout") or a == "-lock=true" for a in arguments), stack
        assert arguments[arguments.index("-var") + 1] == f"deployment_role_arn={role}", stack
        assert arguments.count("-var") == 1 and not any(a.startswith("-var=") or a.startswith("-var-file") for a in arguments), stack
        others = [r for s, r in PLAN_ROLES.items() if s != stack]
        assert not any(other in plan for other in others), f"{stack} must not plan with another environment's role"


def test_pull_request_plan_buildspec_names_only_plan_roles() -> None:
    text = buildspecs.pr_plan(PLAN_ROLES, "acme/infra", "acme/github-token")
    assert re.findall(r"arn:aws:iam::\d{12}:role/[\w+=,.@-]+", text) == list(PLAN_ROLES.values())
    assert "deploy-" not in text


def test_release_plans_keep_the_deployment_role_and_the_lock() -> None:
    """Only pull-request plans swap roles: the release plan must use the variable's default and lock the state."""
    command = build_commands(buildspecs.plan(STACK))[index_of(build_commands(buildspecs.plan(STACK)), r"^terraform plan\b")]
    assert "deployment_role_arn" not in command
    assert "-lock=false" not in command.split()
