"""Every CodeBuild buildspec the pipeline runs, generated from one place.

- synth: installs the pinned toolchain (cached), checks ``environments/``, synthesizes every stack,
  runs the policy gate, and passes the repository with ``cdktf.out/`` on as the ``synth`` artifact.
- plan-<env>: ``terraform init`` + ``terraform plan -out tfplan`` for ``workload-<env>`` (the provider
  assumes the deployment role), ``terraform show -json``, the plan summary; the saved plan, the
  summary and the commit id it was made for become the ``plan_<env>`` artifact.
- pr-plan: for pull requests, plans every workload stack through read-only roles (never applies)
  and writes one summary; pr-comment posts it on the pull request (the only build with the token).
- apply-<env>: applies exactly that saved plan. It refuses a plan made for another commit, and
  terraform refuses a stale plan (state changed since the plan), so nobody applies what they did not
  review.
"""

from __future__ import annotations

import base64
import shlex
from pathlib import Path

import yaml

from provisioner import github_comment

TERRAFORM_VERSION = "1.11.4"
PYTHON_VERSION = "3.11"
NODE_VERSION = "20"

POLICY_GATE_COMMAND = "make scan"
"""The policy gate (checkov and the project's rules); it synthesizes first."""
PLAN_FILE = "tfplan"
PLAN_SUMMARY = "plan-summary.md"
PLAN_COMMIT = "plan-commit-id"
PLAN_JSON = "plan.json"
EXPORTED_PLAN_VARIABLES = ("PLAN_HEADLINE", "PLAN_BUILD_URL")

# The terraform commands of the plan and apply projects, run in the stack's folder. They are data so
# that `make demo` runs exactly the pipeline's steps (provisioner.demo) and the two cannot drift.
TERRAFORM_INIT = ("terraform", "init", "-input=false", "-no-color")
TERRAFORM_PLAN = ("terraform", "plan", "-input=false", "-no-color", "-lock-timeout=5m", f"-out={PLAN_FILE}")
TERRAFORM_SHOW_PLAN = ("terraform", "show", "-json", PLAN_FILE)
"""Its standard output is ``PLAN_JSON``, the input of ``provisioner plan-summary``."""
TERRAFORM_INIT_LOCKED = (*TERRAFORM_INIT, "-lockfile=readonly")
"""Apply installs exactly the providers the plan was made with (the lock file travels with the plan)."""
TERRAFORM_APPLY_PLAN = ("terraform", "apply", "-input=false", "-no-color", "-lock-timeout=5m", PLAN_FILE)
"""A saved plan applies exactly what was reviewed; terraform fails if state moved since."""

_COMMON_ENV = {
    "TERRAFORM_VERSION": TERRAFORM_VERSION,
    "CHECKPOINT_DISABLE": "1",
    "TF_IN_AUTOMATION": "1",
    "TF_INPUT": "0",
}

# Terraform from HashiCorp's release site, checked against the release's SHA256SUMS.
_INSTALL_TERRAFORM = [
    'if ! terraform version 2>/dev/null | grep -q "v${TERRAFORM_VERSION}$"; then '
    "cd /tmp "
    '&& curl -fsSLO "https://releases.hashicorp.com/terraform/${TERRAFORM_VERSION}/terraform_${TERRAFORM_VERSION}_linux_amd64.zip" '
    '&& curl -fsSLO "https://releases.hashicorp.com/terraform/${TERRAFORM_VERSION}/terraform_${TERRAFORM_VERSION}_SHA256SUMS" '
    '&& grep "_linux_amd64.zip" "terraform_${TERRAFORM_VERSION}_SHA256SUMS" | sha256sum -c - '
    '&& unzip -oq "terraform_${TERRAFORM_VERSION}_linux_amd64.zip" -d /usr/local/bin && cd -; fi',
    "terraform version",
]


def _render(spec: dict) -> str:
    return yaml.safe_dump(spec, sort_keys=False, width=1000)


def synth(gate_command: str) -> str:
    """Synthesize every stack and run the policy gate; ``gate_command`` (``make scan``) synthesizes first.

    Fails the pipeline on findings; the gate's JUnit report shows up as the build's test report.
    """
    return _render(
        {
            "version": 0.2,
            "env": {"variables": dict(_COMMON_ENV)},
            "phases": {
                "install": {
                    "runtime-versions": {"python": PYTHON_VERSION, "nodejs": NODE_VERSION},
                    "commands": [*_INSTALL_TERRAFORM, "make setup"],
                },
                "build": {
                    "commands": [
                        'echo "release of commit ${COMMIT_ID} (${RELEASE_REASON})"',
                        ".venv/bin/python -m provisioner check",
                        gate_command,
                    ]
                },
            },
            "artifacts": {
                "files": ["**/*"],
                "exclude-paths": [".venv/**/*", ".venv-checkov/**/*", "node_modules/**/*", ".git/**/*", "**/.terraform/**/*"],
            },
            "reports": {"policy-gate": {"files": ["reports/policy-gate.xml"], "file-format": "JUNITXML"}},
            "cache": {"paths": ["/root/.cache/pip/**/*", "/root/.npm/**/*", "/root/.cache/aws/jsii/**/*"]},
        }
    )


def plan(stack: str) -> str:
    """Plan ``stack`` to a saved file and summarize it."""
    stack_dir = f"cdktf.out/stacks/{stack}"
    return _render(
        {
            "version": 0.2,
            "env": {"variables": {**_COMMON_ENV, "STACK": stack}, "exported-variables": list(EXPORTED_PLAN_VARIABLES)},
            "phases": {
                "install": {"runtime-versions": {"python": PYTHON_VERSION}, "commands": list(_INSTALL_TERRAFORM)},
                "build": {
                    "commands": [
                        f'cd "{stack_dir}"',
                        shlex.join(TERRAFORM_INIT),
                        shlex.join(TERRAFORM_PLAN),
                        f"{shlex.join(TERRAFORM_SHOW_PLAN)} > {PLAN_JSON}",
                        f'PYTHONPATH="$CODEBUILD_SRC_DIR" python3 -m provisioner plan-summary --name "$STACK" {PLAN_JSON} | tee {PLAN_SUMMARY}',
                        f'PLAN_HEADLINE="$(PYTHONPATH="$CODEBUILD_SRC_DIR" python3 -m provisioner plan-summary --format headline --name "$STACK" {PLAN_JSON})"',
                        'export PLAN_HEADLINE PLAN_BUILD_URL="$CODEBUILD_BUILD_URL"',
                        f'printf "%s" "$COMMIT_ID" > {PLAN_COMMIT}',
                        # plan.json repeats every variable value in clear text; the saved plan is enough downstream.
                        f"rm -f {PLAN_JSON}",
                    ]
                },
            },
            "artifacts": {
                "base-directory": stack_dir,
                "files": ["cdk.tf.json", ".terraform.lock.hcl", PLAN_FILE, PLAN_SUMMARY, PLAN_COMMIT],
            },
        }
    )


def apply(stack: str) -> str:
    """Apply the saved plan from the plan artifact, refusing a plan made for another commit."""
    return _render(
        {
            "version": 0.2,
            "env": {"variables": {**_COMMON_ENV, "STACK": stack}},
            "phases": {
                "install": {"runtime-versions": {"python": PYTHON_VERSION}, "commands": list(_INSTALL_TERRAFORM)},
                "build": {
                    "commands": [
                        f'planned="$(cat {PLAN_COMMIT})"; if [ "$planned" != "$COMMIT_ID" ]; then '
                        'echo "refusing to apply: the plan was made for commit $planned, this release is $COMMIT_ID" >&2; exit 1; fi',
                        f"cat {PLAN_SUMMARY}",
                        shlex.join(TERRAFORM_INIT_LOCKED),
                        shlex.join(TERRAFORM_APPLY_PLAN),
                    ]
                },
            },
        }
    )


def pr_plan(plan_roles: dict[str, str]) -> str:
    """Plan every workload stack of a pull request (never apply) and summarize them in one file.

    ``plan_roles`` maps each stack to the read-only role its plan assumes (the stack's
    ``deployment_role_arn`` variable). Plans take no state lock: they write nothing, and the
    read-only build role could not write the lock file. This build runs the pull request's code,
    so it holds no token: ``pr_comment`` posts the summary in a later, separate build.
    """
    plan_each = [
        f'(cd "cdktf.out/stacks/{stack}" && terraform init -input=false -no-color '
        f"&& terraform plan -input=false -no-color -lock=false -var deployment_role_arn={role} -out={PLAN_FILE} "
        f"&& terraform show -json {PLAN_FILE} > {PLAN_JSON})"
        for stack, role in plan_roles.items()
    ]
    plans = " ".join(f"cdktf.out/stacks/{stack}/{PLAN_JSON}" for stack in plan_roles)
    return _render(
        {
            "version": 0.2,
            "env": {"variables": dict(_COMMON_ENV)},
            "phases": {
                "install": {"runtime-versions": {"python": PYTHON_VERSION}, "commands": list(_INSTALL_TERRAFORM)},
                "build": {
                    "commands": [
                        *plan_each,
                        f'PYTHONPATH="$CODEBUILD_SRC_DIR" python3 -m provisioner plan-summary {plans} | tee {PLAN_SUMMARY}',
                        f"rm -f {plans}",
                    ]
                },
            },
            "artifacts": {"files": [PLAN_SUMMARY]},
        }
    )


def pr_comment(repository: str, token_secret: str) -> str:
    """Post the pull request's plan summary as one comment, edited by later pushes.

    The only build that holds the GitHub token. Its input is the summary file (data), and the code it
    runs is ``provisioner/github_comment.py`` as it was when the devops stack was deployed, embedded
    here: nothing from the pull request runs next to the token.
    """
    script = base64.b64encode(Path(github_comment.__file__).read_bytes()).decode()
    return _render(
        {
            "version": 0.2,
            "env": {"variables": dict(_COMMON_ENV), "secrets-manager": {"GITHUB_TOKEN": token_secret}},
            "phases": {
                "install": {"runtime-versions": {"python": PYTHON_VERSION}},
                "build": {
                    "commands": [
                        f"echo {script} | base64 -d > /tmp/pr_comment.py",
                        f'python3 /tmp/pr_comment.py --repository {repository} --commit "$COMMIT_ID" --file {PLAN_SUMMARY}',
                    ]
                },
            },
        }
    )
