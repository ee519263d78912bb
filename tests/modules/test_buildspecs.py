"""``provisioner.delivery.buildspecs``: what each CodeBuild project runs (plan a saved file, apply exactly it)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from provisioner.delivery import buildspecs
from provisioner.plan_review.comment import MARKER
from tests.conftest import bare_python3
from tests.fake_github import TOKEN

STACK = "workload-dev"
PLAN_ROLE = "arn:aws:iam::222222222222:role/acme-plan-dev"
DEPLOYMENT_ROLE = "arn:aws:iam::222222222222:role/acme-deploy-dev"
REPO_ROOT = Path(__file__).resolve().parents[2]


def plan_spec() -> str:
    return buildspecs.plan(STACK, PLAN_ROLE)


def apply_spec() -> str:
    return buildspecs.apply(STACK, DEPLOYMENT_ROLE)


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
    commands = build_commands(plan_spec())
    cd = index_of(commands, rf'^cd "cdktf\.out/stacks/{STACK}"$')
    init = index_of(commands, r"^terraform init\b")
    plan = index_of(commands, r"^terraform plan\b.* -out=tfplan 2> ")
    show = index_of(commands, r"^terraform show -json tfplan > plan\.json$")
    summary = index_of(commands, r"-m provisioner plan-summary --name \"\$STACK\" plan\.json > plan-summary\.md$")
    shown = index_of(commands, r"^cat plan-summary\.md$")
    assert cd < init < plan < show < summary < shown
    assert "-input=false" in commands[plan]


def test_plan_runs_through_the_read_only_plan_role_and_apply_through_the_deployment_role() -> None:
    """The same saved plan, two roles: the role is an ephemeral variable, set by each build's environment."""
    assert load(plan_spec())["env"]["variables"]["TF_VAR_workload_role_arn"] == PLAN_ROLE
    assert load(apply_spec())["env"]["variables"]["TF_VAR_workload_role_arn"] == DEPLOYMENT_ROLE
    for text in (plan_spec(), apply_spec()):
        assert "-var" not in " ".join(build_commands(text)).split(), "terraform apply of a saved plan refuses -var"


def test_plan_exports_the_headline_and_build_url_for_the_approval() -> None:
    spec = load(plan_spec())
    assert spec["env"]["exported-variables"] == ["PLAN_HEADLINE", "PLAN_BUILD_URL"]
    commands = spec["phases"]["build"]["commands"]
    headline = index_of(commands, r'^PLAN_HEADLINE="\$\(.*plan-summary --format headline .*plan\.json\)"$')
    export = index_of(commands, r'^export PLAN_HEADLINE PLAN_BUILD_URL="\$CODEBUILD_BUILD_URL"$')
    assert headline < export


def test_plan_artifact_holds_the_saved_plan_summary_and_commit_but_not_plan_json() -> None:
    spec = load(plan_spec())
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
    text = apply_spec()
    commands = build_commands(text)
    assert "terraform plan" not in text
    apply = index_of(commands, r"^terraform apply\b")
    assert commands[apply].split(" 2> ")[0].split()[-1] == "tfplan", "apply must take the saved plan file"
    assert "-auto-approve" not in commands[apply], "a saved plan needs no approval flag; -auto-approve hints at a re-plan"
    assert apply == len(commands) - 1


def test_apply_installs_exactly_the_locked_providers() -> None:
    commands = build_commands(apply_spec())
    init = index_of(commands, r"^terraform init\b")
    assert "-lockfile=readonly" in commands[init].split()
    assert init < index_of(commands, r"^terraform apply\b")


def test_apply_checks_the_commit_before_anything_else() -> None:
    commands = build_commands(apply_spec())
    check = index_of(commands, r"plan-commit-id")
    assert check == 0
    assert "$COMMIT_ID" in commands[check]


@pytest.mark.parametrize(("planned", "released", "code"), [("abc123", "abc123", 0), ("abc123", "def456", 1), ("", "def456", 1)])
def test_apply_commit_check_refuses_a_plan_made_for_another_commit(tmp_path: Path, planned: str, released: str, code: int) -> None:
    check = build_commands(apply_spec())[0]
    (tmp_path / "plan-commit-id").write_text(planned)
    result = subprocess.run(["bash", "-c", check], cwd=tmp_path, env={"COMMIT_ID": released, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert result.returncode == code, result.stderr
    if code:
        assert f"refusing to apply: the plan was made for revision {planned}, this release is {released}" in result.stderr


def test_apply_has_no_artifacts_and_runs_in_the_plan_artifact() -> None:
    spec = load(apply_spec())
    assert "artifacts" not in spec
    assert not any(command.startswith("cd ") for command in spec["phases"]["build"]["commands"])


# --- synth ---------------------------------------------------------------------------------------
POLICY_GATE_TARGET = buildspecs.POLICY_GATE_COMMAND.removeprefix("make ")
CHECKOV_REQUIREMENTS = "policy/checkov-requirements.txt"


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


def make_dry_run(target: str, environment: dict[str, str]) -> str:
    """The commands ``make <target>`` would run from scratch (``-B``: every target as if out of date) with ``environment``."""
    env = {key: value for key, value in os.environ.items() if key != "SETUP_PROFILE"} | environment
    result = subprocess.run(["make", "--no-print-directory", "-n", "-B", target], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def pip_installs(commands: str) -> list[str]:
    return re.findall(r"-m pip install .*?(-e '[^']*'|-r \S+)", commands)


DEV_TOOLS = ("pytest", "pytest-xdist", "moto")


def test_the_test_tools_are_dev_extras_only() -> None:
    import tomllib

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    names = lambda requirements: {re.split(r"[<>=\[ ]", requirement)[0] for requirement in requirements}  # noqa: E731
    assert set(DEV_TOOLS) <= names(project["optional-dependencies"]["dev"])
    assert not set(DEV_TOOLS) & names(project["dependencies"])


def test_synth_installs_the_project_without_its_dev_tools_nor_cdktf_cli_nor_terraform() -> None:
    """Synthesis runs the app in Python, the gate runs checkov from its own virtualenv; no synth step runs terraform."""
    spec = load(buildspecs.synth("make scan"))
    environment = spec["env"]["variables"]
    assert environment["SETUP_PROFILE"] == buildspecs.SYNTH_SETUP_PROFILE == "build"
    assert spec["phases"]["install"]["commands"] == ["make setup"]
    assert pip_installs(make_dry_run("setup", environment)) == ["-e '.'"]
    installed = make_dry_run(POLICY_GATE_TARGET, environment)  # the gate makes setup and synth first
    assert pip_installs(installed) == ["-e '.'", f"-r {CHECKOV_REQUIREMENTS}"], "the project alone, then the pinned checkov"
    assert "[dev]" not in installed and "import pytest" not in installed and "xdist" not in installed
    assert "npm" not in installed and "node_modules" not in installed
    assert "terraform" not in " ".join(spec["phases"]["install"]["commands"] + spec["phases"]["build"]["commands"])


def test_developers_setup_still_installs_the_dev_tools_and_cdktf_cli() -> None:
    installed = make_dry_run("setup", {})
    assert pip_installs(installed) == ["-e '.[dev]'"]
    assert "import cdktf, cdktf_cdktf_provider_aws, hcl2, yaml, pytest, xdist" in installed
    assert "npm ci" in installed


def test_an_unknown_setup_profile_is_refused_in_one_line() -> None:
    env = {key: value for key, value in os.environ.items() if key != "SETUP_PROFILE"} | {"SETUP_PROFILE": "ci"}
    result = subprocess.run(["make", "--no-print-directory", "-n", "setup"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "SETUP_PROFILE=ci: must be dev (the default) or build" in result.stderr


def test_synth_keeps_pip_and_jsii_caches_only() -> None:
    """What the synth build downloads (Python packages, jsii's unpacked provider bindings, the provider's lazy copy) is cached;
    nothing else is downloaded."""
    assert load(buildspecs.synth("make scan"))["cache"]["paths"] == [
        "/root/.cache/pip/**/*", "/root/.cache/aws/jsii/**/*", "/root/.cache/pipeline-provisioner/**/*",
    ]  # fmt: skip


def test_synth_keeps_the_lazy_provider_package_and_the_jsii_cache_between_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without them a build would derive the provider's lazy copy (about 10 s) and unpack it again."""
    from modules.provider_loading import cache_dir

    monkeypatch.setenv("HOME", "/root")  # CodeBuild's
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    cached = load(buildspecs.synth("make scan"))["cache"]["paths"]
    assert "/root/.cache/aws/jsii/**/*" in cached
    assert f"{cache_dir().parent}/**/*" in cached


def test_the_policy_gate_the_devops_stack_runs_is_a_makefile_target() -> None:
    from provisioner.delivery.buildspecs import POLICY_GATE_COMMAND

    assert POLICY_GATE_COMMAND == "make scan"
    assert POLICY_GATE_COMMAND.startswith("make ")
    makefile_prerequisites(POLICY_GATE_COMMAND.split()[1])


# --- every buildspec -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [plan_spec(), apply_spec(), buildspecs.pr_plan({STACK: "arn:aws:iam::222222222222:role/acme-plan-dev"})],
    ids=["plan", "apply", "pr-plan"],
)
def test_terraform_is_pinned_and_checked_against_its_checksums(text: str) -> None:
    spec = load(text)
    assert spec["env"]["variables"]["TERRAFORM_VERSION"] == buildspecs.TERRAFORM_VERSION == "1.11.4"
    assert spec["env"]["variables"]["CHECKPOINT_DISABLE"] == "1"
    install = " ".join(spec["phases"]["install"]["commands"])
    assert "sha256sum -c" in install and "SHA256SUMS" in install


PLAN_ROLES = {
    "dev": "arn:aws:iam::222222222222:role/acme-plan-dev",
    "prod": "arn:aws:iam::444444444444:role/acme-plan-prod",
}
STACKS = {f"workload-{environment}": role for environment, role in PLAN_ROLES.items()}


def unpack(command: str, into: Path) -> Path:
    """Run a buildspec's ``echo <base64> | base64 -d | tar -xzf - -C <dir>`` with ``into`` as the folder."""
    match = re.fullmatch(r"mkdir -p (\S+) && echo ([A-Za-z0-9+/=]+) \| base64 -d \| tar -xzf - -C (\S+)", command)
    assert match and match.group(1) == match.group(3) == buildspecs.DEPLOYED_CODE_DIR, command[:120]
    subprocess.run(["bash", "-c", command.replace(buildspecs.DEPLOYED_CODE_DIR, str(into))], check=True)
    return into


def test_pull_request_plans_never_apply() -> None:
    text = buildspecs.pr_plan(PLAN_ROLES)
    assert "terraform apply" not in text and "apply" not in " ".join(build_commands(text)).split()
    assert load(text)["artifacts"]["files"] == ["plan-summary.md"]
    assert load(text)["env"]["variables"]["PLAN_ROLES"] == "dev=arn:aws:iam::222222222222:role/acme-plan-dev prod=arn:aws:iam::444444444444:role/acme-plan-prod"


def test_pull_request_plan_buildspec_names_only_plan_roles() -> None:
    text = buildspecs.pr_plan(PLAN_ROLES)
    assert re.findall(r"arn:aws:iam::\d{12}:role/[\w+=,.@-]+", text) == list(PLAN_ROLES.values())
    assert "deploy-" not in text


FAKE_TERRAFORM = """#!/bin/bash
echo "$PWD|$*|${TF_VAR_workload_role_arn}" >> "$CALLS"
if [ "$1" = plan ]; then
  echo "start ${PWD##*/} $(date +%s.%N)" >> "$SPANS"; sleep 0.5; echo "end ${PWD##*/} $(date +%s.%N)" >> "$SPANS"
  if [ -n "$FAIL_IN" ] && [ "${PWD##*/}" = "$FAIL_IN" ]; then echo "Error: no credentials"; exit 1; fi
  echo "Plan: 0 to add"
fi
if [ "$1" = show ]; then cat "$PLAN_JSON_FIXTURE"; fi
"""


def run_pr_plan_build(tmp_path: Path, fail_in: str = "", jobs: str = "2") -> tuple[subprocess.CompletedProcess, list[list[str]]]:
    """The pr-plan build's own commands, run by sh against a fake terraform that records its calls, with a
    python3 that has no site-packages (CodeBuild's image has none of the project's packages)."""
    bin_dir = tmp_path / "bin"
    bare_python3(bin_dir)
    (bin_dir / "terraform").write_text(FAKE_TERRAFORM)
    (bin_dir / "terraform").chmod(0o755)
    fixture = tmp_path / "plan-fixture.json"
    fixture.write_text('{"format_version": "1.2", "terraform_version": "1.11.4", "resource_changes": []}')
    for stack in [*STACKS, "workload-stray"]:
        (tmp_path / "src" / "cdktf.out" / "stacks" / stack).mkdir(parents=True)
    # A plan.json brought along by the pull request, beside a stack it does not plan: never read.
    (tmp_path / "src" / "cdktf.out" / "stacks" / "workload-stray" / "plan.json").write_text("{}")
    spec = load(buildspecs.pr_plan(PLAN_ROLES))
    install = spec["phases"]["install"]["commands"]
    deployed = unpack(install[-1], tmp_path / "deployed")
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(tmp_path / "calls"), "PLAN_JSON_FIXTURE": str(fixture),
        "FAIL_IN": fail_in, "SPANS": str(tmp_path / "spans"), "PLAN_JOBS": jobs, **spec["env"]["variables"],
    }  # fmt: skip
    # As CodeBuild does: each command in turn, the first that fails stops the build; the log has them all.
    log = []
    for command in spec["phases"]["build"]["commands"]:
        script = command.replace(buildspecs.DEPLOYED_CODE_DIR, str(deployed))
        result = subprocess.run(["sh", "-c", script], cwd=tmp_path / "src", env=env, capture_output=True, text=True, timeout=60)
        log.append(result.stdout)
        if result.returncode:
            break
    result.stdout = "".join(log)
    calls = [line.split("|") for line in (tmp_path / "calls").read_text().splitlines()] if (tmp_path / "calls").exists() else []
    return result, calls


def test_pull_request_plans_assume_each_stacks_plan_role_without_a_lock(tmp_path: Path) -> None:
    """Run for real (terraform faked): init, plan through the stack's own plan role with no lock, show, per stack."""
    result, calls = run_pr_plan_build(tmp_path)
    assert result.returncode == 0, result.stderr
    for stack, role in STACKS.items():
        folder = str(tmp_path / "src" / "cdktf.out" / "stacks" / stack)
        assert [call for call in calls if call[0] == folder] == [
            [folder, "init -input=false -no-color", ""],
            [folder, "plan -input=false -no-color -lock=false -out=tfplan", role],
            [folder, "show -json tfplan", ""],
        ]
    assert len(calls) == 3 * len(STACKS)
    summary = (tmp_path / "src" / "plan-summary.md").read_text()
    assert "**workload-dev**: No changes." in summary and "**workload-prod**: No changes." in summary
    assert "workload-stray" not in summary, "only the plans this build made are summarized"
    assert not list((tmp_path / "src" / "cdktf.out" / "stacks" / "workload-dev").glob("plan.json")), "plan.json is removed"


def plan_spans(tmp_path: Path) -> dict[str, tuple[float, float]]:
    marks = [line.split() for line in (tmp_path / "spans").read_text().splitlines()]
    return {stack: (float(start), float(end)) for (_, stack, start), (_, _, end) in zip(
        sorted((m for m in marks if m[0] == "start"), key=lambda m: m[1]), sorted((m for m in marks if m[0] == "end"), key=lambda m: m[1]))}  # fmt: skip


@pytest.mark.parametrize(("jobs", "overlap"), [("2", True), ("1", False)])
def test_pull_request_plans_run_side_by_side_each_stacks_output_whole(tmp_path: Path, jobs: str, overlap: bool) -> None:
    result, _ = run_pr_plan_build(tmp_path, jobs=jobs)
    assert result.returncode == 0, result.stderr
    (dev_start, dev_end), (prod_start, prod_end) = plan_spans(tmp_path)["workload-dev"], plan_spans(tmp_path)["workload-prod"]
    assert (dev_start < prod_end and prod_start < dev_end) is overlap
    assert sorted(line for line in result.stdout.splitlines() if ": exit " in line) == ["workload-dev: exit 0", "workload-prod: exit 0"]
    assert "--- workload-dev\nPlan: 0 to add\n--- workload-prod\nPlan: 0 to add\n" in result.stdout, "each stack's output whole, in order"


def test_a_failing_pull_request_plan_fails_the_build_after_every_plan_and_leaves_no_summary(tmp_path: Path) -> None:
    """Every stack is still planned (the author sees each failure at once); the failed stack's plan is not shown."""
    result, calls = run_pr_plan_build(tmp_path, fail_in="workload-dev")
    assert result.returncode != 0
    dev, prod = (str(tmp_path / "src" / "cdktf.out" / "stacks" / stack) for stack in STACKS)
    assert [call[1].split()[0] for call in calls if call[0] == dev] == ["init", "plan"], "no show of a failed plan"
    assert [call[1].split()[0] for call in calls if call[0] == prod] == ["init", "plan", "show"]
    assert "workload-dev: exit 1" in result.stdout.splitlines()
    assert "--- workload-dev\nError: no credentials\n--- workload-prod\nPlan: 0 to add\n" in result.stdout
    assert not (tmp_path / "src" / "plan-summary.md").exists(), "no summary of plans that were not all made"


def test_pull_request_summary_is_made_by_the_deployed_code(tmp_path: Path) -> None:
    """The archive in the buildspec holds the repository's plan-summary code (docstrings aside), not the pull request's."""
    import ast

    install = load(buildspecs.pr_plan(PLAN_ROLES))["phases"]["install"]["commands"]
    deployed = unpack(install[-1], tmp_path)
    shipped = sorted(str(path.relative_to(deployed)) for path in deployed.rglob("*.py"))
    assert shipped == sorted(buildspecs.PLAN_SUMMARY_FILES)
    for name in shipped:
        ours = ast.dump(ast.parse(buildspecs._without_docstrings((REPO_ROOT / name).read_text())))
        assert ast.dump(ast.parse((deployed / name).read_text())) == ours, name
    commands = build_commands(buildspecs.pr_plan(PLAN_ROLES))
    assert "CODEBUILD_SRC_DIR" not in " ".join(commands) and "-m provisioner" not in " ".join(commands)


def test_pull_request_plans_may_install_only_the_aws_provider(tmp_path: Path) -> None:
    """Another provider would run code of the pull request's choosing next to the build's read access to all state."""
    spec = load(buildspecs.pr_plan(PLAN_ROLES))
    assert spec["env"]["variables"]["TF_CLI_CONFIG_FILE"] == buildspecs.PR_PLAN_CLI_CONFIG
    (write,) = [c for c in spec["phases"]["install"]["commands"] if "provider_installation" in c]
    config = tmp_path / "cli.tfrc"
    without_mirror = {key: value for key, value in os.environ.items() if key != buildspecs.MIRROR_ENV}
    subprocess.run(["sh", "-c", write.replace(buildspecs.PR_PLAN_CLI_CONFIG, str(config))], check=True, env=without_mirror)
    assert config.read_text() == 'provider_installation {\n  direct {\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n'
    # An image with a provider mirror (a build without internet): the same single provider, from the mirror.
    mirrored = tmp_path / "mirrored.tfrc"
    subprocess.run(["sh", "-c", write.replace(buildspecs.PR_PLAN_CLI_CONFIG, str(mirrored))], check=True, env={**without_mirror, buildspecs.MIRROR_ENV: "/opt/my mirror"})
    assert mirrored.read_text() == (
        'provider_installation {\n  filesystem_mirror {\n    path    = "/opt/my mirror"\n'
        '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n'
    )
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / "main.tf.json").write_text('{"terraform": {"required_providers": {"external": {"source": "hashicorp/external"}}}}')
    env = {"PATH": os.environ["PATH"], "TF_CLI_CONFIG_FILE": str(config), "CHECKPOINT_DISABLE": "1", "HOME": str(tmp_path)}
    result = subprocess.run(["terraform", "init", "-input=false", "-no-color"], cwd=stack, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "hashicorp/external" in result.stderr


def test_pull_request_plan_holds_no_token_and_posts_nothing() -> None:
    """It runs terraform on the pull request's configuration: no secret may reach it, and the comment is another build's job."""
    text = buildspecs.pr_plan(PLAN_ROLES)
    spec = load(text)
    assert set(spec["env"]) == {"variables"}, "no secrets-manager, parameter-store or exported variables"
    assert "GITHUB_TOKEN" not in text and "pr-comment" not in text and "api.github.com" not in text


def test_release_plans_keep_the_lock() -> None:
    """Only pull-request plans skip the lock: a release plan locks the state against a concurrent apply."""
    command = build_commands(plan_spec())[index_of(build_commands(plan_spec()), r"^terraform plan\b")]
    assert "-lock=false" not in command.split()


@pytest.mark.parametrize("count", [1, 50])
def test_pull_request_plan_buildspec_stays_under_codebuilds_limit(count: int) -> None:
    roles = {f"environment-numbr-{i:02d}": f"arn:aws:iam::2222222222{i:02d}:role/abcdefghij-klm-plan-environment-numbr-{i:02d}" for i in range(count)}
    assert len(buildspecs.pr_plan(roles)) < buildspecs.MAX_BUILDSPEC_CHARS


# --- pull-request comment ------------------------------------------------------------------------
COMMENT_SCRIPT = REPO_ROOT / "provisioner" / "plan_review" / "comment.py"


def embedded_script(text: str, tmp_path: Path) -> Path:
    """The comment script the build unpacks from its own buildspec (the deployed code), unpacked into ``tmp_path``."""
    (unpacking,) = load(text)["phases"]["install"]["commands"]
    return unpack(unpacking, tmp_path) / "provisioner" / "plan_review" / "comment.py"


def test_pull_request_comment_runs_exactly_the_deployed_github_comment_module(tmp_path: Path) -> None:
    import ast

    text = buildspecs.pr_comment("acme/infra", "acme/github-token")
    script = embedded_script(text, tmp_path)
    assert ast.dump(ast.parse(script.read_text())) == ast.dump(ast.parse(buildspecs._without_docstrings(COMMENT_SCRIPT.read_text())))
    commands = build_commands(text)
    assert commands == [f'python3 {buildspecs.DEPLOYED_CODE_DIR}/provisioner/plan_review/comment.py --repository acme/infra --commit "$COMMIT_ID" --file plan-summary.md']


def test_pull_request_comment_alone_gets_the_token_from_secrets_manager() -> None:
    spec = load(buildspecs.pr_comment("acme/infra", "acme/github-token"))
    assert spec["env"]["secrets-manager"] == {"GITHUB_TOKEN": "acme/github-token"}
    assert "GITHUB_TOKEN" not in spec["env"]["variables"], "the token must never be a plaintext variable"
    for text in (buildspecs.pr_plan(PLAN_ROLES), buildspecs.synth("make scan"), plan_spec(), apply_spec()):
        env = load(text)["env"]
        assert "secrets-manager" not in env and "parameter-store" not in env


def test_pull_request_comment_runs_no_code_from_the_pull_request() -> None:
    """Its input artifact is the PR's summary (data); nothing from the source tree may be imported or executed."""
    text = buildspecs.pr_comment("acme/infra", "acme/github-token")
    spec = load(text)
    commands = " ".join(spec["phases"]["build"]["commands"])
    for pr_code in ("-m provisioner", "PYTHONPATH", "CODEBUILD_SRC_DIR", "make ", "pip ", ".venv", "terraform", "npm", "npx"):
        assert pr_code not in commands, pr_code
    (install,) = spec["phases"]["install"]["commands"]
    assert install.startswith(f"mkdir -p {buildspecs.DEPLOYED_CODE_DIR} && echo "), "the install step only unpacks the deployed code"
    assert set(spec["phases"]) == {"install", "build"}


def test_embedded_comment_script_imports_only_the_standard_library(tmp_path: Path) -> None:
    """Run as a lone file: a project import would fail there, or pick up the pull request's copy."""
    import ast
    import sys

    tree = ast.parse(embedded_script(buildspecs.pr_comment("acme/infra", "acme/github-token"), tmp_path).read_text())
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
    script = embedded_script(buildspecs.pr_comment("acme/infra", "acme/github-token"), tmp_path / "deployed")
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
    """The buildspec's own commands, run by bash as CodeBuild would (only the deployed-code folder moved into tmp_path)."""
    fake, api = github
    (tmp_path / "plan-summary.md").write_text("summary of the plan\n")
    spec = load(buildspecs.pr_comment("acme/infra", "acme/github-token"))
    deployed = str(tmp_path / "deployed")
    commands = [c.replace(buildspecs.DEPLOYED_CODE_DIR, deployed) for c in spec["phases"]["install"]["commands"] + spec["phases"]["build"]["commands"]]
    path = f"{bare_python3(tmp_path / 'bin').parent}{os.pathsep}{os.environ['PATH']}"
    env = {"PATH": path, "GITHUB_TOKEN": TOKEN, "COMMIT_ID": "abc123", "GITHUB_API_URL": api, "HOME": str(tmp_path)}
    for command in commands:
        result = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=60)
        assert result.returncode == 0, f"{command[:80]}: {result.stderr}"
    assert "pull request #7: summary comment created" in result.stdout
    ours = [c for c in fake.comments[7] if MARKER in c["body"]]
    assert len(ours) == 1 and ours[0]["body"] == f"{MARKER}\nsummary of the plan\n"
    assert 3 not in fake.comments, "the closed pull request gets no comment"


def test_a_plan_build_names_a_missing_bootstrap_stack_in_one_line(tmp_path) -> None:
    """When the plan role cannot be assumed (here: no AWS at all), the build fails first, naming the stack to apply."""
    import subprocess

    spec = load(buildspecs.plan(STACK, PLAN_ROLE, "ext-id", "bootstrap-dev"))
    check = spec["phases"]["build"]["commands"][0]
    assert check.startswith('aws sts assume-role --role-arn "$TF_VAR_workload_role_arn" --role-session-name bootstrap-check --external-id "ext-id"')
    variables = {"PATH": str(tmp_path), "TF_VAR_workload_role_arn": PLAN_ROLE}  # an empty PATH: the assume-role fails
    result = subprocess.run(["/bin/sh", "-c", check], env=variables, capture_output=True, text=True, check=False)
    assert result.returncode != 0
    account = PLAN_ROLE.split(":")[4]
    assert result.stderr.splitlines()[-1] == (
        f"bootstrap-dev is missing or stale: this build cannot assume {PLAN_ROLE}; an admin of account {account} "
        "runs cdktf deploy bootstrap-dev (README, Bootstrap a workload account)"
    )
    assert not load(buildspecs.plan(STACK, PLAN_ROLE))["phases"]["build"]["commands"][0].startswith("aws "), "without a bootstrap stack, no check"


@pytest.mark.parametrize("synth_name", ["example_synth", "alt_synth"])
def test_every_synthesized_buildspec_is_the_text_pyyamls_own_emitter_writes(request: pytest.FixtureRequest, synth_name: str) -> None:
    """``render`` uses libyaml's emitter where PyYAML has it: the text must be what PyYAML's own writes, or
    a machine without libyaml would synthesize other buildspecs (and every project would change)."""
    synth = request.getfixturevalue(synth_name)
    texts = [
        project["source"]["buildspec"]
        for stack in synth.stacks
        for project in synth.resources(stack, "aws_codebuild_project").values()
    ]
    assert len(texts) >= 8
    for text in texts:
        assert yaml.dump(yaml.safe_load(text), Dumper=yaml.SafeDumper, sort_keys=False, width=1000) == text
