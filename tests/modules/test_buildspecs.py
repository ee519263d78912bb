"""``provisioner.buildspecs``: what each CodeBuild project runs (plan a saved file, apply exactly it)."""

from __future__ import annotations

import base64
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from provisioner import buildspecs
from provisioner.github_comment import MARKER
from tests.fake_github import TOKEN

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
    from provisioner.buildspecs import POLICY_GATE_COMMAND

    assert POLICY_GATE_COMMAND == "make scan"
    assert POLICY_GATE_COMMAND.startswith("make ")
    makefile_prerequisites(POLICY_GATE_COMMAND.split()[1])


# --- every buildspec -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [buildspecs.synth("make scan"), buildspecs.plan(STACK), buildspecs.apply(STACK), buildspecs.pr_plan({STACK: "arn:aws:iam::222222222222:role/acme-plan-dev"})],
    ids=["synth", "plan", "apply", "pr-plan"],
)
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
    text = buildspecs.pr_plan(PLAN_ROLES)
    assert "terraform apply" not in text and "apply" not in " ".join(build_commands(text)).split()
    commands = build_commands(text)
    for stack in PLAN_ROLES:
        index_of(commands, rf'^\(cd "cdktf\.out/stacks/{stack}" && terraform init .*terraform plan .*terraform show -json tfplan > plan\.json\)$')
    assert load(text)["artifacts"]["files"] == ["plan-summary.md"]


def test_pull_request_plans_assume_each_stacks_plan_role_without_a_lock() -> None:
    """The read-only build role can neither write a lock file nor assume a deployment role."""
    commands = build_commands(buildspecs.pr_plan(PLAN_ROLES))
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
    text = buildspecs.pr_plan(PLAN_ROLES)
    assert re.findall(r"arn:aws:iam::\d{12}:role/[\w+=,.@-]+", text) == list(PLAN_ROLES.values())
    assert "deploy-" not in text


def test_pull_request_plan_holds_no_token_and_posts_nothing() -> None:
    """It runs the pull request's code: no secret may reach it, and the comment is another build's job."""
    text = buildspecs.pr_plan(PLAN_ROLES)
    spec = load(text)
    assert set(spec["env"]) == {"variables"}, "no secrets-manager, parameter-store or exported variables"
    assert "GITHUB_TOKEN" not in text and "pr-comment" not in text and "api.github.com" not in text
    summary = index_of(spec["phases"]["build"]["commands"], r"-m provisioner plan-summary .*\| tee plan-summary\.md$")
    assert summary == len(PLAN_ROLES)


def test_release_plans_keep_the_deployment_role_and_the_lock() -> None:
    """Only pull-request plans swap roles: the release plan must use the variable's default and lock the state."""
    command = build_commands(buildspecs.plan(STACK))[index_of(build_commands(buildspecs.plan(STACK)), r"^terraform plan\b")]
    assert "deployment_role_arn" not in command
    assert "-lock=false" not in command.split()


# --- pull-request comment ------------------------------------------------------------------------
COMMENT_SCRIPT = REPO_ROOT / "provisioner" / "github_comment.py"


def embedded_script(text: str) -> bytes:
    """The script the comment build writes and runs: the base64 text of its ``echo ... | base64 -d`` command."""
    commands = build_commands(text)
    decode = commands[index_of(commands, r"\| base64 -d > /tmp/pr_comment\.py$")]
    match = re.fullmatch(r"echo ([A-Za-z0-9+/=]+) \| base64 -d > /tmp/pr_comment\.py", decode)
    assert match, decode
    return base64.b64decode(match.group(1), validate=True)


def test_pull_request_comment_runs_exactly_the_deployed_github_comment_module() -> None:
    text = buildspecs.pr_comment("acme/infra", "acme/github-token")
    assert embedded_script(text) == COMMENT_SCRIPT.read_bytes()
    commands = build_commands(text)
    assert commands[-1] == 'python3 /tmp/pr_comment.py --repository acme/infra --commit "$COMMIT_ID" --file plan-summary.md'
    assert len(commands) == 2


def test_pull_request_comment_alone_gets_the_token_from_secrets_manager() -> None:
    spec = load(buildspecs.pr_comment("acme/infra", "acme/github-token"))
    assert spec["env"]["secrets-manager"] == {"GITHUB_TOKEN": "acme/github-token"}
    assert "GITHUB_TOKEN" not in spec["env"]["variables"], "the token must never be a plaintext variable"
    for text in (buildspecs.pr_plan(PLAN_ROLES), buildspecs.synth("make scan"), buildspecs.plan(STACK), buildspecs.apply(STACK)):
        env = load(text)["env"]
        assert "secrets-manager" not in env and "parameter-store" not in env


def test_pull_request_comment_runs_no_code_from_the_pull_request() -> None:
    """Its input artifact is the PR's summary (data); nothing from the source tree may be imported or executed."""
    text = buildspecs.pr_comment("acme/infra", "acme/github-token")
    spec = load(text)
    commands = " ".join(spec["phases"]["build"]["commands"])
    for pr_code in ("-m provisioner", "PYTHONPATH", "CODEBUILD_SRC_DIR", "make ", "pip ", ".venv", "terraform", "npm", "npx"):
        assert pr_code not in commands, pr_code
    assert "commands" not in spec["phases"]["install"], "no install step runs anything either"
    assert set(spec["phases"]) == {"install", "build"}


def test_embedded_comment_script_imports_only_the_standard_library() -> None:
    """Run as a lone file from /tmp: a project import would fail there, or pick up the pull request's copy."""
    import ast
    import sys

    tree = ast.parse(embedded_script(buildspecs.pr_comment("acme/infra", "acme/github-token")))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            imported.add(node.module.split(".")[0])
    assert imported, "the parser found the imports"
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported - set(sys.stdlib_module_names)


def test_decoded_comment_script_posts_the_summary(github, tmp_path: Path) -> None:
    """The decoded bytes, run as a lone script with the documented arguments, create the comment on the fake API."""
    fake, api = github
    script = tmp_path / "script.py"
    script.write_bytes(embedded_script(buildspecs.pr_comment("acme/infra", "acme/github-token")))
    summary = tmp_path / "plan-summary.md"
    summary.write_text("## Terraform plan summary\nworkload-dev: 1 to add\n")
    env = {"PATH": os.environ["PATH"], "GITHUB_TOKEN": TOKEN, "HOME": str(tmp_path)}
    result = subprocess.run(
        ["python3", str(script), "--repository", "acme/infra", "--pull-request", "12", "--file", str(summary), "--api", api],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pull request #12: summary comment created (c101)"
    (comment,) = fake.comments[12]
    assert comment["body"] == f"{MARKER}\n## Terraform plan summary\nworkload-dev: 1 to add\n"
    assert set(fake.auth_headers) == {f"Bearer {TOKEN}"}
    assert TOKEN not in result.stdout + result.stderr


def test_comment_buildspec_commands_post_on_the_commits_open_pull_request(github, tmp_path: Path) -> None:
    """The buildspec's own two commands, run by bash as CodeBuild would (only the /tmp path moved into tmp_path)."""
    fake, api = github
    (tmp_path / "plan-summary.md").write_text("summary of the plan\n")
    script = str(tmp_path / "pr_comment.py")
    commands = [c.replace("/tmp/pr_comment.py", script) for c in build_commands(buildspecs.pr_comment("acme/infra", "acme/github-token"))]
    env = {"PATH": os.environ["PATH"], "GITHUB_TOKEN": TOKEN, "COMMIT_ID": "abc123", "GITHUB_API_URL": api, "HOME": str(tmp_path)}
    for command in commands:
        result = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=60)
        assert result.returncode == 0, f"{command[:80]}: {result.stderr}"
    assert "pull request #7: summary comment created" in result.stdout
    ours = [c for c in fake.comments[7] if MARKER in c["body"]]
    assert len(ours) == 1 and ours[0]["body"] == f"{MARKER}\nsummary of the plan\n"
    assert 3 not in fake.comments, "the closed pull request gets no comment"
