"""The emulated deployments the end-to-end modules start from, each in an emulator of its own, so the
modules run side by side on separate workers.

``release(tmp_path_factory)`` bootstraps the remote state (``provisioner bootstrap-state``'s code), applies
``devops`` with terraform and, side by side, deploys ``bootstrap-dev`` with the real ``cdktf deploy``, then
runs the deployed release pipeline once through the local runner: Source (the S3 object), Synth, the
devops stack's plan, then ``workload-dev``'s Plan, Apply (through the deployment role, with its external
id) and post-deploy check, each build its own buildspec.

``workload(tmp_path_factory)`` deploys what an apply of ``workload-dev`` needs and nothing else: the
remote state, ``bootstrap-dev``, then ``workload-dev`` planned through the plan role and applied through
the deployment role with the commands of the Plan and Apply builds. No devops stack and no pipeline: a
bootstrap stack needs nothing of the devops stack but the state bucket (its roles trust the pipeline's
roles by account and ``aws:PrincipalArn``, which need not exist yet), which is also why ``release`` deploys
the two side by side."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Iterator

import boto3
import pytest

from provisioner.delivery import buildspecs, terraform
from provisioner.delivery.steps import environment_steps
from provisioner.local_aws import server
from provisioner.local_aws.demo_run import Demo
from provisioner.paths import NODE_BIN, REPO_ROOT
from tests.conftest import write_environments

DEVOPS_ACCOUNT = "123456789012"
DEV_ACCOUNT = "222222222222"
REGION = "eu-west-1"
EXTERNAL_ID = "itest-dev-external-id"
DEVOPS = f"""
account_id  = "{DEVOPS_ACCOUNT}"
region      = "{REGION}"
name_prefix = "itest"
source {{
  type       = "s3"
  bucket     = "itest-source-{DEVOPS_ACCOUNT}"
  repository = "repository.zip"
}}
"""
DEV = f"""
account_id = "{DEV_ACCOUNT}"
region     = "{REGION}"
order      = 1
deployment_role {{
  external_id = "{EXTERNAL_ID}"
}}
bootstrap {{
  role_arn       = "arn:aws:iam::{DEV_ACCOUNT}:role/OrganizationAccountAccessRole"
  state_role_arn = "arn:aws:iam::{DEVOPS_ACCOUNT}:role/OrganizationAccountAccessRole"
}}
step "bucket-check" {{
  when     = "after-apply"
  commands = ["python3 examples/workloads/checks/data_bucket.py"]
}}
"""
STACKS = ("devops", "bootstrap-dev", "workload-dev")


class Deployed:
    def __init__(self, demo: Demo, endpoint: str) -> None:
        self.demo = demo
        self.project = demo.project
        self.endpoint = endpoint
        self.env = demo.project.environments[0]

    def client(self, service: str, credentials: dict[str, str] | None = None) -> Any:
        keys = credentials or {"AccessKeyId": "test", "SecretAccessKey": "test"}
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
            aws_session_token=keys.get("SessionToken"),
        )

    def build_environment(self, kind: str) -> dict[str, str]:
        """The tools' environment of ``kind``'s build (``plan``, ``apply``) of the environment: the role it assumes."""
        steps = {step.kind: step for step in environment_steps(self.project, self.env)}
        return {**self.demo.env, buildspecs.ROLE_ENV: steps[kind].spec.variables[buildspecs.ROLE_ENV]}

    def workload_credentials(self) -> dict[str, str]:
        return self.client("sts").assume_role(
            RoleArn=self.project.deployment_role_arn(self.env), RoleSessionName="integration-test", ExternalId=EXTERNAL_ID
        )["Credentials"]


@contextmanager
def _emulated(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[tuple[Demo, str]]:
    """A demo run on a new emulator (the integration configuration), pointed at it for the block."""
    root = tmp_path_factory.mktemp(name)
    demo = Demo(write_environments(root, DEVOPS, {"dev": DEV}), root / "workspace")
    demo.record = root / "local-aws.json"
    with server.running(record=demo.record) as emulator, demo.targeting(emulator.endpoint):
        yield demo, emulator.endpoint


def _deploy_bootstrap(demo: Demo, quiet: bool = False) -> None:
    deploy = ["deploy", "bootstrap-dev", "--auto-approve", "--skip-provider-lock", "--skip-synth", "--output", str(demo.outdir)]
    demo.progress.run("cdktf deploy bootstrap-dev", [str(NODE_BIN / "cdktf"), *deploy], cwd=REPO_ROOT, env=demo.env, quiet=quiet)


def release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    with _emulated(tmp_path_factory, "e2e") as (demo, endpoint):
        demo.seed_source()
        demo.bootstrap_state()
        devops_dir = demo.outdir / "stacks" / "devops"
        apply_devops = ("terraform", "apply", "-auto-approve", "-input=false", "-no-color")
        with ThreadPoolExecutor(max_workers=2) as pool:  # side by side: each needs only the state bucket
            applied = pool.submit(demo.progress.run, "apply devops", apply_devops, cwd=devops_dir, env=demo.env, quiet=True)
            bootstrapped = pool.submit(_deploy_bootstrap, demo, quiet=True)
            applied.result(), bootstrapped.result()
        demo.run_pipeline(releases=1)
        yield Deployed(demo, endpoint)


def workload(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    with _emulated(tmp_path_factory, "workload") as (demo, endpoint):
        demo.bootstrap_state()
        _deploy_bootstrap(demo)
        deployed = Deployed(demo, endpoint)
        stack_dir = demo.outdir / "stacks" / deployed.env.workload_stack
        planning, applying = deployed.build_environment("plan"), deployed.build_environment("apply")
        demo.progress.run("plan init", terraform.INIT, cwd=stack_dir, env=planning)
        demo.progress.run("plan", terraform.PLAN, cwd=stack_dir, env=planning)
        demo.progress.run("apply init", terraform.INIT_LOCKED, cwd=stack_dir, env=applying)
        demo.progress.run("apply", terraform.APPLY_PLAN, cwd=stack_dir, env=applying)
        yield deployed
