"""Every CodeBuild buildspec the pipeline runs, generated from one place.

- synth: installs what synthesis and the policy gate need (``make setup`` with ``SETUP_PROFILE=build``:
  the project without its test tools, no cdktf-cli, no terraform; pip's cache kept), checks
  ``environments/``, synthesizes every stack, runs the policy gate, and passes the repository with
  ``cdktf.out/`` on as the ``synth`` artifact.
- plan-<env>: ``terraform init`` + ``terraform plan -out tfplan`` for ``workload-<env>`` (the provider
  assumes the environment's read-only plan role), ``terraform show -json``, the plan summary; the
  saved plan, the summary and the revision it was made for become the ``plan_<env>`` artifact.
- apply-<env>: applies exactly that saved plan, the provider now assuming the deployment role. It
  refuses a plan made for another revision, and terraform refuses a stale plan (state changed since
  the plan), so nobody applies what they did not review.
- pr-plan: for pull requests, plans every workload stack through read-only roles (never applies)
  and writes one summary; pr-comment posts it on the pull request (the only build with the token).

Which role the provider assumes is the ephemeral variable ``workload_role_arn`` (``TF_VAR_...`` in the
build's environment): ephemeral values are not stored in a saved plan, so plan and apply of the same
plan run with different roles.

The code that runs next to a pull request's plans and next to the GitHub token is the deployed
devops stack's: it is embedded here (a compressed archive), never taken from the pull request.
An inline buildspec may hold at most ``MAX_BUILDSPEC_CHARS`` characters (``provisioner check``
measures them).
"""

from __future__ import annotations

import ast
import base64
import functools
import gzip
import io
import tarfile
from dataclasses import dataclass, field
from typing import Any, Mapping

from provisioner.configuration.naming import WORKLOAD_ROLE_VARIABLE, WORKLOAD_STACK_PREFIX
from provisioner.delivery import terraform
from provisioner.delivery.terraform import PLAN_FILE, PLAN_JSON
from provisioner.operations.state_lock import recovery_awk
from provisioner.paths import REPO_ROOT

TERRAFORM_VERSION = "1.11.4"
PYTHON_VERSION = "3.11"
NODE_VERSION = "20"

POLICY_GATE_COMMAND = "make scan"
"""The policy gate (checkov and the project's rules); it synthesizes first."""
SYNTH_SETUP_PROFILE = "build"
"""``make setup``'s profile in synth builds: the project alone. Synthesis runs the CDK app in Python (the
jsii runtime needs Node.js, not cdktf-cli), the gate runs checkov from its own pinned virtualenv, and
neither runs terraform: the dev extras (pytest, moto), cdktf-cli and terraform would only cost minutes."""
PLAN_SUMMARY = "plan-summary.md"
PLAN_COMMIT = "plan-commit-id"
EXPORTED_PLAN_VARIABLES = ("PLAN_HEADLINE", "PLAN_BUILD_URL")
ROLE_ENV = f"TF_VAR_{WORKLOAD_ROLE_VARIABLE}"
"""Names the role terraform assumes in the workload account (the workload stacks' ephemeral variable)."""
MAX_BUILDSPEC_CHARS = 25_600
"""CodeBuild refuses a longer inline buildspec (not in its documented quotas, seen by CDK Pipelines)."""
DEPLOYED_CODE_DIR = "/tmp/provisioner-deployed"
PLAN_SUMMARY_FILES = (
    "provisioner/__init__.py", "provisioner/errors.py", "provisioner/cli.py", "provisioner/colour.py", "provisioner/interruption.py",
    "provisioner/plan_review/__init__.py", "provisioner/plan_review/summary.py",
    "provisioner/commands/__init__.py", "provisioner/commands/plan_summary.py",
)  # fmt: skip
"""What ``provisioner plan-summary`` needs: standard library and these files only."""
COMMENT_FILES = ("provisioner/plan_review/comment.py",)
PULL_REQUEST_PROVIDERS = ("registry.terraform.io/hashicorp/aws",)
"""The only providers a pull request's plan may install: another provider would run the pull request's
choice of code next to the build's read access to every workload state."""
PR_PLAN_CLI_CONFIG = "/tmp/pr-plan.tfrc"

_COMMON_ENV = {
    "TERRAFORM_VERSION": TERRAFORM_VERSION,
    "CHECKPOINT_DISABLE": "1",
    "TF_IN_AUTOMATION": "1",
    "TF_INPUT": "0",
}

TERRAFORM_HOME = "/root/.cache/terraform/${TERRAFORM_VERSION}"
PLUGIN_CACHE = "/root/.terraform.d/plugin-cache"
TERRAFORM_CACHE = (f"{TERRAFORM_HOME.rsplit('/', 1)[0]}/**/*", f"{PLUGIN_CACHE}/**/*")
"""What a terraform build keeps between its builds (its own CodeBuild cache): the terraform binary, checked
against HashiCorp's SHA256SUMS when it was downloaded, and the providers, which terraform checks against
the stack's lock file every time it uses them."""
_TERRAFORM_CACHE_ENV = {"TF_PLUGIN_CACHE_DIR": PLUGIN_CACHE}

# Terraform from HashiCorp's release site, checked against the release's SHA256SUMS, kept in the build cache.
_INSTALL_TERRAFORM = [
    'if ! terraform version 2>/dev/null | grep -q "v${TERRAFORM_VERSION}$"; then '
    f'if [ ! -x "{TERRAFORM_HOME}/terraform" ]; then mkdir -p "{TERRAFORM_HOME}" && cd /tmp '
    '&& curl -fsSLO "https://releases.hashicorp.com/terraform/${TERRAFORM_VERSION}/terraform_${TERRAFORM_VERSION}_linux_amd64.zip" '
    '&& curl -fsSLO "https://releases.hashicorp.com/terraform/${TERRAFORM_VERSION}/terraform_${TERRAFORM_VERSION}_SHA256SUMS" '
    '&& grep "_linux_amd64.zip" "terraform_${TERRAFORM_VERSION}_SHA256SUMS" | sha256sum -c - '
    f'&& unzip -oq "terraform_${{TERRAFORM_VERSION}}_linux_amd64.zip" -d "{TERRAFORM_HOME}" && cd -; fi; '
    f'ln -sf "{TERRAFORM_HOME}/terraform" /usr/local/bin/terraform; fi',
    f'mkdir -p "{PLUGIN_CACHE}"',
    "terraform version",
]


TERRAFORM_ERRORS = "terraform-errors.log"


def naming_a_held_lock(command: tuple[str, ...]) -> str:
    """``command`` as one shell line, its standard error shown as it is, then, when terraform could not take the
    state lock (an interrupted plan or apply left it), one line naming the lock and how to release it."""
    return (
        f"{terraform.shell(command)} 2> {TERRAFORM_ERRORS}; status=$?; cat {TERRAFORM_ERRORS} >&2; "
        f"awk '{recovery_awk()}' {TERRAFORM_ERRORS} >&2; rm -f {TERRAFORM_ERRORS}; [ $status -eq 0 ]"
    )


_REFUSE_ANOTHER_REVISION = (
    f'planned="$(cat {PLAN_COMMIT})"; if [ "$planned" != "$COMMIT_ID" ]; then '
    'echo "refusing to apply: the plan was made for revision $planned, this release is $COMMIT_ID" >&2; exit 1; fi'
)
"""Apply builds apply only a plan made for the release they belong to."""
_APPLY_THE_REVIEWED_PLAN = (
    _REFUSE_ANOTHER_REVISION,
    f"cat {PLAN_SUMMARY}",
    terraform.shell(terraform.INIT_LOCKED),
    naming_a_held_lock(terraform.APPLY_PLAN),
)
"""Exactly the saved plan of the plan artifact, with the providers it was made with."""


@dataclass(frozen=True)
class BuildSpec:
    """What one CodeBuild build runs; ``render`` writes it as the buildspec YAML CodeBuild reads."""

    build: tuple[str, ...]
    """The build phase's commands (one shell: a failing command fails the build)."""
    variables: Mapping[str, str] = field(default_factory=dict)
    """Environment variables, after the ones every build has (the terraform version, no prompts)."""
    install: tuple[str, ...] = ()
    runtimes: Mapping[str, str] = field(default_factory=lambda: {"python": PYTHON_VERSION})
    exported: tuple[str, ...] = ()
    """Variables the pipeline action exports to later actions (its namespace)."""
    secrets: Mapping[str, str] = field(default_factory=dict)
    """Environment variables read from Secrets Manager."""
    artifacts: Mapping[str, Any] | None = None
    reports: Mapping[str, Any] | None = None
    cache: tuple[str, ...] = ()


def render(spec: BuildSpec) -> str:
    """The buildspec YAML: the one renderer of every build the product runs."""
    # Imported here: the steps (and so the role model) are read by commands that run in CodeBuild with
    # the standard library only (``provisioner plan-summary``); only rendering needs PyYAML.
    import yaml

    env: dict[str, Any] = {"variables": {**_COMMON_ENV, **spec.variables}}
    if spec.exported:
        env["exported-variables"] = list(spec.exported)
    if spec.secrets:
        env["secrets-manager"] = dict(spec.secrets)
    install: dict[str, Any] = {}
    if spec.runtimes:
        install["runtime-versions"] = dict(spec.runtimes)
    if spec.install:
        install["commands"] = list(spec.install)
    document: dict[str, Any] = {"version": 0.2, "env": env, "phases": {"install": install, "build": {"commands": list(spec.build)}}}
    if spec.artifacts is not None:
        document["artifacts"] = dict(spec.artifacts)
    if spec.reports is not None:
        document["reports"] = dict(spec.reports)
    if spec.cache:
        document["cache"] = {"paths": list(spec.cache)}
    # libyaml's emitter where PyYAML has it: the same text as PyYAML's own (a test compares every buildspec
    # of the example stacks), about 10x faster, which is 2 to 3 ms of every environment's synth.
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(document, Dumper=dumper, sort_keys=False, width=1000)


def synth_spec(gate_command: str) -> BuildSpec:
    """Synthesize every stack and run the policy gate; ``gate_command`` (``make scan``) synthesizes first.

    Fails the pipeline on findings; the gate's JUnit report shows up as the build's test report.
    """
    return BuildSpec(
        runtimes={"python": PYTHON_VERSION, "nodejs": NODE_VERSION},
        # In the environment, not on the command line: `make scan` then stays with the same profile.
        variables={"SETUP_PROFILE": SYNTH_SETUP_PROFILE},
        install=("make setup",),
        build=(
            'echo "release of commit ${COMMIT_ID} (${RELEASE_REASON})"',
            ".venv/bin/python -m provisioner check",
            gate_command,
        ),
        artifacts={
            "files": ["**/*"],
            "exclude-paths": [".venv/**/*", ".venv-checkov/**/*", "node_modules/**/*", ".git/**/*", "**/.terraform/**/*"],
        },
        reports={"policy-gate": {"files": ["reports/policy-gate.xml"], "file-format": "JUNITXML"}},
        cache=(
            "/root/.cache/pip/**/*",
            "/root/.cache/aws/jsii/**/*",
            "/root/.cache/pipeline-provisioner/**/*",  # the provider package the jsii runtime loads lazily
        ),
    )


def plan_spec(stack: str, plan_role_arn: str, external_id: str | None = None, bootstrap_stack: str | None = None) -> BuildSpec:
    """Plan ``stack`` through its read-only ``plan_role_arn`` to a saved file, and summarize it.

    With ``bootstrap_stack``, the build first tries the role: a role that cannot be assumed means the
    workload account's bootstrap stack is missing or older than this release, and the build says so
    in one line instead of terraform's long AccessDenied.
    """
    stack_dir = f"cdktf.out/stacks/{stack}"
    check: tuple[str, ...] = ()
    if bootstrap_stack:
        account = plan_role_arn.split(":")[4]
        external = f' --external-id "{external_id}"' if external_id else ""
        check = (
            f'aws sts assume-role --role-arn "${ROLE_ENV}" --role-session-name bootstrap-check{external} > /dev/null '
            f'|| {{ echo "{bootstrap_stack} is missing or stale: this build cannot assume ${ROLE_ENV}; an admin of account {account} '
            f'runs cdktf deploy {bootstrap_stack} (README, Bootstrap a workload account)" >&2; false; }}',
        )
    return BuildSpec(
        variables={"STACK": stack, ROLE_ENV: plan_role_arn, **_TERRAFORM_CACHE_ENV},
        exported=EXPORTED_PLAN_VARIABLES,
        cache=TERRAFORM_CACHE,
        install=tuple(_INSTALL_TERRAFORM),
        build=(
            *check,
            f'cd "{stack_dir}"',
            terraform.shell(terraform.INIT),
            naming_a_held_lock(terraform.PLAN),
            f"{terraform.shell(terraform.SHOW_PLAN)} > {PLAN_JSON}",
            f'PYTHONPATH="$CODEBUILD_SRC_DIR" python3 -m provisioner plan-summary --name "$STACK" {PLAN_JSON} > {PLAN_SUMMARY}',
            f"cat {PLAN_SUMMARY}",
            f'PLAN_HEADLINE="$(PYTHONPATH="$CODEBUILD_SRC_DIR" python3 -m provisioner plan-summary --format headline --name "$STACK" {PLAN_JSON})"',
            'export PLAN_HEADLINE PLAN_BUILD_URL="$CODEBUILD_BUILD_URL"',
            f'printf "%s" "$COMMIT_ID" > {PLAN_COMMIT}',
            # plan.json repeats every variable value in clear text; the saved plan is enough downstream.
            f"rm -f {PLAN_JSON}",
        ),
        artifacts={"base-directory": stack_dir, "files": ["cdk.tf.json", ".terraform.lock.hcl", PLAN_FILE, PLAN_SUMMARY, PLAN_COMMIT]},
    )


def apply_spec(stack: str, deployment_role_arn: str) -> BuildSpec:
    """Apply the saved plan from the plan artifact through ``deployment_role_arn``, refusing a plan made
    for another revision."""
    return BuildSpec(
        variables={"STACK": stack, ROLE_ENV: deployment_role_arn, **_TERRAFORM_CACHE_ENV},
        install=tuple(_INSTALL_TERRAFORM),
        cache=TERRAFORM_CACHE,
        build=_APPLY_THE_REVIEWED_PLAN,
    )


def pr_plan_spec(plan_roles: Mapping[str, str]) -> BuildSpec:
    """Plan every workload stack of a pull request (never apply), side by side, and summarize them in one file.

    ``plan_roles`` maps each environment to the read-only role its stack's plan assumes. Plans take no
    state lock: they write nothing, and the read-only build role could not write the lock file. This
    build runs terraform on the pull request's configuration, so terraform may install only
    ``PULL_REQUEST_PROVIDERS``, the summary is made by the deployed code, and the build holds no token:
    ``pr_comment`` posts the summary in a later, separate build. It keeps no cache: a pull request could
    leave a provider there for the next pull request's plan, which reads every workload state.
    """
    pairs = " ".join(f"{environment}={role}" for environment, role in plan_roles.items())
    include = ", ".join(f'"{source}"' for source in PULL_REQUEST_PROVIDERS)
    # Side by side, as many at once as the build has cores (or PLAN_JOBS, when the project sets it): a line
    # as each plan ends, then every stack's output whole, in order (plans that end together would mix
    # their lines). xargs runs every stack and exits non-zero when one failed. CodeBuild runs a phase's
    # commands in one shell: a failure is a non-zero status, never `exit`. Terse: the buildspec of 50
    # environments must stay well under CodeBuild's quota.
    plan_one = (
        f'stack="{WORKLOAD_STACK_PREFIX}${{1%%=*}}"; '
        f'(cd "cdktf.out/stacks/$stack" && {terraform.shell(terraform.INIT)} '
        f'&& {ROLE_ENV}="${{1#*=}}" {terraform.shell(terraform.PLAN_WITHOUT_LOCK)} '
        f'&& {terraform.shell(terraform.SHOW_PLAN)} > {PLAN_JSON}) > "$stack.log" 2>&1; status=$?; '
        'echo "$stack: exit $status"; exit $status'
    )
    plan_each = (
        f"echo $PLAN_ROLES | xargs -n 1 -P \"${{PLAN_JOBS:-$(nproc)}}\" sh -c '{plan_one}' plan; status=$?; "
        f'for pair in $PLAN_ROLES; do stack="{WORKLOAD_STACK_PREFIX}${{pair%%=*}}"; echo "--- $stack"; cat "$stack.log"; done; [ $status -eq 0 ]'
    )
    # Exactly the plans made above (a plan.json the pull request brought along elsewhere is never read).
    plans = f'set --; for pair in $PLAN_ROLES; do set -- "$@" "cdktf.out/stacks/{WORKLOAD_STACK_PREFIX}${{pair%%=*}}/{PLAN_JSON}"; done'
    return BuildSpec(
        variables={"PLAN_ROLES": pairs, "TF_CLI_CONFIG_FILE": PR_PLAN_CLI_CONFIG},
        install=(
            *_INSTALL_TERRAFORM,
            _pull_request_cli_config(include),
            _unpack(PLAN_SUMMARY_FILES),
        ),
        build=(
            plan_each,
            # No pipe: a failing summary must fail the build (sh has no pipefail).
            f'{plans}; {_deployed_command("plan_summary", "plan-summary")} "$@" > {PLAN_SUMMARY}; status=$?; rm -f "$@"; [ $status -eq 0 ]',
            f"cat {PLAN_SUMMARY}",
        ),
        artifacts={"files": [PLAN_SUMMARY]},
    )


MIRROR_ENV = "PROVISIONER_PROVIDER_MIRROR"
"""A provider filesystem mirror the build image holds (set in the image): the pull request's plans install the
allowed providers from it instead of the registry, for builds without internet."""


def _pull_request_cli_config(include: str) -> str:
    """Write terraform's CLI config for pull-request plans: only ``include`` may be installed, from the image's
    mirror when it names one (``MIRROR_ENV``), else from the registry."""
    quoted = include.replace('"', '\\"')
    return (
        f'if [ -n "${{{MIRROR_ENV}:-}}" ]; then m="filesystem_mirror {{\\n    path    = \\"${MIRROR_ENV}\\"\\n"; else m="direct {{\\n"; fi; '
        f'printf "provider_installation {{\\n  $m    include = [{quoted}]\\n  }}\\n}}\\n" > {PR_PLAN_CLI_CONFIG}'
    )


def pr_comment_spec(repository: str, token_secret: str) -> BuildSpec:
    """Post the pull request's plan summary as one comment, edited by later pushes.

    The only build that holds the GitHub token. Its input is the summary file (data), and the code it
    runs is ``provisioner/plan_review/comment.py`` as it was when the devops stack was deployed, embedded
    here: nothing from the pull request runs next to the token.
    """
    return BuildSpec(
        secrets={"GITHUB_TOKEN": token_secret},
        install=(_unpack(COMMENT_FILES),),
        build=(f'python3 {DEPLOYED_CODE_DIR}/{COMMENT_FILES[0]} --repository {repository} --commit "$COMMIT_ID" --file {PLAN_SUMMARY}',),
    )


DEVOPS_CHANGED = "DEVOPS_CHANGED"
"""Exported by the devops plan: ``true`` when the devops stack would change (the approval and apply run)."""
EXPORTED_DEVOPS_PLAN_VARIABLES = (*EXPORTED_PLAN_VARIABLES, DEVOPS_CHANGED)


def devops_plan_spec(stack: str) -> BuildSpec:
    """Plan the devops stack itself (the pipeline, its roles, a new environment's builds) from the release's
    synth output, read-only and without the lock, and say whether it would change (``DEVOPS_CHANGED``).

    The saved plan and its summary become the ``devops_plan`` artifact; applying it later refuses a plan
    made for another revision, and terraform refuses it when the state moved since.
    """
    stack_dir = f"cdktf.out/stacks/{stack}"
    plan = terraform.shell(terraform.PLAN_DRIFT)
    return BuildSpec(
        variables={"STACK": stack, **_TERRAFORM_CACHE_ENV},
        exported=EXPORTED_DEVOPS_PLAN_VARIABLES,
        cache=TERRAFORM_CACHE,
        install=tuple(_INSTALL_TERRAFORM),
        build=(
            f'cd "{stack_dir}"',
            terraform.shell(terraform.INIT),
            # 0: no changes, 2: changes, 1: failed (the only status that fails the build).
            f'{plan}; code=$?; {DEVOPS_CHANGED}="$([ $code -eq {terraform.DRIFT_EXIT_CODE} ] && echo true || echo false)"; [ $code -ne 1 ]',
            f"{terraform.shell(terraform.SHOW_PLAN)} > {PLAN_JSON}",
            f'PYTHONPATH="$CODEBUILD_SRC_DIR" python3 -m provisioner plan-summary --name "$STACK" {PLAN_JSON} > {PLAN_SUMMARY}',
            f"cat {PLAN_SUMMARY}",
            f'PLAN_HEADLINE="$(PYTHONPATH="$CODEBUILD_SRC_DIR" python3 -m provisioner plan-summary --format headline --name "$STACK" {PLAN_JSON})"',
            f'export PLAN_HEADLINE PLAN_BUILD_URL="$CODEBUILD_BUILD_URL" {DEVOPS_CHANGED}',
            f'echo "the devops stack changes: ${DEVOPS_CHANGED}"',
            f'printf "%s" "$COMMIT_ID" > {PLAN_COMMIT}',
            f"rm -f {PLAN_JSON}",
        ),
        artifacts={"base-directory": stack_dir, "files": ["cdk.tf.json", ".terraform.lock.hcl", PLAN_FILE, PLAN_SUMMARY, PLAN_COMMIT]},
    )


def devops_apply_spec(stack: str, pipeline: str, revision_type: str) -> BuildSpec:
    """Apply the reviewed plan of the devops stack, then restart the release on the updated pipeline: a new
    execution of the same revision (``revision_type`` names it to CodePipeline), and this one stopped once
    this build ends (stopping without abandoning lets the running action finish)."""
    return BuildSpec(
        variables={"STACK": stack, "PIPELINE": pipeline, "REVISION_TYPE": revision_type, **_TERRAFORM_CACHE_ENV},
        install=tuple(_INSTALL_TERRAFORM),
        cache=TERRAFORM_CACHE,
        build=(
            *_APPLY_THE_REVIEWED_PLAN,
            'aws codepipeline start-pipeline-execution --name "$PIPELINE" '
            '--source-revisions "actionName=Source,revisionType=$REVISION_TYPE,revisionValue=$COMMIT_ID" '
            '--variables "name=RELEASE_REASON,value=restarted on the updated pipeline"',
            'aws codepipeline stop-pipeline-execution --pipeline-name "$PIPELINE" --pipeline-execution-id "$PIPELINE_EXECUTION_ID" '
            '--reason "the pipeline changed; the release continues in the new execution"',
        ),
    )


def drift_spec(topic_arn: str) -> BuildSpec:
    """The scheduled drift run (``provisioner.operations.drift``): plan every synthesized workload stack
    through its read-only plan role, without the lock, and publish one message per drifted environment
    to ``topic_arn`` with the plan's headline and this build's link. Drift is news, not a failed build:
    the build fails only when a plan fails (and says so in a message too)."""
    return BuildSpec(
        variables={"TOPIC_ARN": topic_arn, **_TERRAFORM_CACHE_ENV},
        install=(*_INSTALL_TERRAFORM, "python3 -m pip install --quiet boto3"),
        cache=TERRAFORM_CACHE,
        build=(
            'PYTHONPATH="$CODEBUILD_SRC_DIR" python3 -m provisioner drift --skip-synth --outdir cdktf.out '
            '--notify "$TOPIC_ARN" --link "$CODEBUILD_BUILD_URL"',
        ),
    )


def team_spec(environment: str, stack: str, region: str, plan_role_arn: str, external_id: str | None, commands: tuple[str, ...]) -> BuildSpec:
    """A team's own step: its commands, in a checkout of the released revision (with ``cdktf.out/``).

    ``WORKLOAD_ROLE_ARN`` names the environment's read-only plan role, which the step's role may assume
    (``aws sts assume-role``, with ``WORKLOAD_EXTERNAL_ID`` when the environment sets one) to read the
    workload account in ``WORKLOAD_REGION``; it can change nothing there.
    """
    variables = {"ENVIRONMENT": environment, "STACK": stack, "WORKLOAD_REGION": region, "WORKLOAD_ROLE_ARN": plan_role_arn}
    if external_id:
        variables["WORKLOAD_EXTERNAL_ID"] = external_id
    return BuildSpec(variables=variables, build=('echo "release of commit ${COMMIT_ID}: ${ENVIRONMENT}"', *commands))


def synth(gate_command: str) -> str:
    return render(synth_spec(gate_command))


def plan(stack: str, plan_role_arn: str, external_id: str | None = None, bootstrap_stack: str | None = None) -> str:
    return render(plan_spec(stack, plan_role_arn, external_id, bootstrap_stack))


def apply(stack: str, deployment_role_arn: str) -> str:
    return render(apply_spec(stack, deployment_role_arn))


def pr_plan(plan_roles: Mapping[str, str]) -> str:
    return render(pr_plan_spec(plan_roles))


def pr_comment(repository: str, token_secret: str) -> str:
    return render(pr_comment_spec(repository, token_secret))


@functools.cache
def bundle(files: tuple[str, ...]) -> str:
    """``files`` (relative to the repository) as a base64 gzip tar, docstrings left out (a buildspec has
    room for 25,600 characters): byte-identical for identical files, so synthesizing twice gives the
    same buildspec. Computed once per process: config loading measures the buildspec, the synth writes it."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(files):
            data = _without_docstrings((REPO_ROOT / name).read_text()).encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            archive.addfile(info, io.BytesIO(data))
    return base64.b64encode(gzip.compress(raw.getvalue(), compresslevel=9, mtime=0)).decode()


def _without_docstrings(source: str) -> str:
    """The same module without docstrings and comments (nothing here reads ``__doc__``)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                node.body = node.body[1:] or [ast.Pass()]
    return ast.unparse(tree) + "\n"


def _unpack(files: tuple[str, ...]) -> str:
    return f"mkdir -p {DEPLOYED_CODE_DIR} && echo {bundle(files)} | base64 -d | tar -xzf - -C {DEPLOYED_CODE_DIR}"


def _deployed_command(module: str, command: str) -> str:
    """Run ``provisioner <command>`` from the deployed code, knowing only ``provisioner.commands.<module>``."""
    runner = f"import sys; from provisioner.cli import main; sys.exit(main(sys.argv[1:], modules=('provisioner.commands.{module}',)))"
    return f'PYTHONPATH={DEPLOYED_CODE_DIR} python3 -c "{runner}" {command}'
