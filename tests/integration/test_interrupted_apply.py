"""An apply killed mid-way against the local multi-account AWS, and the recovery a team follows.

One emulator for the module, with what an apply of ``workload-dev`` needs (``tests.integration.emulated.workload``:
the remote state, ``bootstrap-dev``, ``workload-dev`` applied as the Apply build applies it); about 4
minutes in all, side by side with the end-to-end module on another worker."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from examples.workloads.sample import data_bucket_name
from provisioner.app.workloads import environment_of
from provisioner.configuration.naming import Naming
from provisioner.delivery import buildspecs, terraform
from provisioner.operations import state_lock
from provisioner.paths import REPO_ROOT
from tests.integration.emulated import Deployed, workload

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    yield from workload(tmp_path_factory)


# --- an interrupted apply -------------------------------------------------------------------------
INTERRUPTED_WORKLOAD = REPO_ROOT / "tests" / "workloads" / "interrupted.hcl"
CREATED = re.compile(r"^(?P<address>\S+): Creation complete after \S+ \[id=(?P<id>[^\]]+)\]$")
ALREADY_EXISTS = re.compile(r"Error: creating S3 Bucket \((?P<id>[^)]+)\): .*BucketAlreadyOwnedByYou")


def cli_run(deployed: Deployed, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PROVISIONER_TARGET="local", PROVISIONER_AWS_ENDPOINT=deployed.endpoint, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    return subprocess.run([sys.executable, "-m", "provisioner", *args], env=env, capture_output=True, text=True, cwd=REPO_ROOT, check=False)


def state_versions(deployed: Deployed, key: str) -> list[dict]:
    listed = deployed.client("s3").list_object_versions(Bucket=deployed.project.naming.state_bucket, Prefix=key)
    return [version for version in listed.get("Versions", []) if version["Key"] == key]


def test_an_apply_killed_mid_way_leaves_its_lock_and_a_new_release_converges(deployed: Deployed, tmp_path: Path) -> None:
    """The release after workload-dev's first adds an archive bucket; its apply is killed (SIGKILL, as a stopped build)
    while the bucket's lifecycle configuration is being created. What a team sees and does next, as README's
    "An apply was interrupted" says, and what the state bucket kept.

    It leaves workload-dev with the archive bucket: the module has no other test."""
    demo, naming, env = deployed.demo, deployed.project.naming, deployed.env
    stack = env.workload_stack
    bucket, state_key, lock_key = naming.state_bucket, Naming.state_key(stack), Naming.state_lock_key(stack)
    s3 = deployed.client("s3")
    planning, applying = deployed.build_environment("plan"), deployed.build_environment("apply")
    before = state_versions(deployed, state_key)
    current_before = next(version for version in before if version["IsLatest"])

    # The release: synth with the new workload, the Plan build's plan, then the Apply build's apply, killed.
    outdir = tmp_path / "cdktf.out"
    synth = {**demo.env, "CDKTF_OUTDIR": str(outdir), "PROVISIONER_WORKLOAD": str(INTERRUPTED_WORKLOAD)}
    demo.progress.run("synth with the archive bucket", [sys.executable, "main.py"], cwd=REPO_ROOT, env=synth)
    stack_dir = outdir / "stacks" / stack
    demo.progress.run("plan init", terraform.INIT, cwd=stack_dir, env=planning)
    demo.progress.run("plan", terraform.PLAN, cwd=stack_dir, env=planning)
    demo.progress.run("apply init", terraform.INIT_LOCKED, cwd=stack_dir, env=applying)
    apply = subprocess.Popen(terraform.APPLY_PLAN, cwd=stack_dir, env=applying, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert apply.stdout is not None
    created: dict[str, str] = {}
    killed_while = ""
    for line in apply.stdout:
        if found := CREATED.match(line.strip()):
            created[found["address"]] = found["id"]
        if line.startswith("aws_s3_bucket_lifecycle_configuration.archive-bucket") and "Still creating..." in line:
            killed_while = line.strip()
            os.kill(apply.pid, signal.SIGKILL)
            break
    apply.wait()
    assert killed_while, "the apply ended before its archive lifecycle configuration was being created"
    assert apply.returncode == -signal.SIGKILL
    archive_bucket = [address for address in created if address.startswith("aws_s3_bucket.archive-bucket")]
    assert len(archive_bucket) == 1, f"the archive bucket was created before the kill: {sorted(created)}"
    archive = created[archive_bucket[0]]

    # The lock is held: the .tflock object beside the state names the operation, who and when.
    held = json.loads(s3.get_object(Bucket=bucket, Key=lock_key)["Body"].read())
    assert held["Operation"] == "OperationTypeApply" and held["Who"] and held["Created"] and held["Path"] == f"{bucket}/{state_key}"
    lock = state_lock.Lock(id=held["ID"], path=held["Path"], operation=held["Operation"], who=held["Who"], created=held["Created"])

    # The next release's Plan build fails, and its last line names the lock and the recovery (the build's
    # own command line, waiting 1 s for the lock instead of 5 minutes).
    plan_build = buildspecs.naming_a_held_lock(terraform.PLAN).replace("-lock-timeout=5m", "-lock-timeout=1s", 1)
    assert plan_build != buildspecs.naming_a_held_lock(terraform.PLAN)
    blocked = subprocess.run(["sh", "-c", plan_build], cwd=stack_dir, env=planning, capture_output=True, text=True, check=False)
    assert blocked.returncode != 0 and state_lock.TERRAFORM_LOCK_ERROR in blocked.stderr
    assert blocked.stderr.rstrip().splitlines()[-1] == f"provisioner: {state_lock.recovery(lock)}"

    # The recovery: provisioner unlock with the lock's id.
    unlocked = cli_run(deployed, "unlock", stack, "--environments", str(demo.environments), "--lock-id", lock.id)
    assert unlocked.returncode == 0, unlocked.stderr
    assert unlocked.stdout.splitlines()[-1] == f"released lock {lock.id} on {stack}: the next plan or apply of {stack} takes the lock again"
    assert not [v for v in s3.list_objects_v2(Bucket=bucket, Prefix=lock_key).get("Contents", [])]

    # terraform saves the state during an apply at most every 20 s: this kill came before the first save, so the
    # state is the one before the apply, intact, and the objects the apply created are not in it yet.
    recorded = demo.progress.run("state list", ("terraform", "state", "list"), cwd=stack_dir, env=demo.env, quiet=True).output.split()
    assert next(v for v in state_versions(deployed, state_key) if v["IsLatest"])["VersionId"] == current_before["VersionId"]
    assert not set(created) & set(recorded)

    # A new plan and apply (the next release): terraform creates again what the state lacks; the bucket
    # cannot be created twice, so the apply names it, and it is imported; its settings and the lifecycle
    # configuration are written again over what the killed apply wrote.
    demo.progress.run("replan", terraform.PLAN, cwd=stack_dir, env=planning)
    failed = demo.progress.run("reapply", terraform.APPLY_PLAN, cwd=stack_dir, env=applying, accept=(1,))
    assert (found := ALREADY_EXISTS.search(" ".join(failed.output.split()))) and found["id"] == archive, failed.output[-3000:]
    demo.progress.run("import", ("terraform", "import", "-input=false", "-no-color", archive_bucket[0], archive), cwd=stack_dir, env=applying)
    demo.progress.run("plan after import", terraform.PLAN, cwd=stack_dir, env=planning)
    demo.progress.run("apply after import", terraform.APPLY_PLAN, cwd=stack_dir, env=applying)
    assert demo.progress.run("second plan", ("terraform", "plan", "-detailed-exitcode", "-input=false", "-no-color"), cwd=stack_dir, env=planning, accept=(0, 2)).returncode == 0

    # Every object the killed apply created is in the state with the id it was created with, once.
    shown = json.loads(demo.progress.run("show", ("terraform", "show", "-json", "-no-color"), cwd=stack_dir, env=demo.env, quiet=True).output)
    ids = {resource["address"]: resource["values"]["id"] for resource in shown["values"]["root_module"]["resources"] if resource["mode"] == "managed"}
    assert {address: ids.get(address) for address in created} == created
    workload_buckets = [b["Name"] for b in deployed.client("s3", deployed.workload_credentials()).list_buckets()["Buckets"]]
    assert sorted(workload_buckets) == sorted({data_bucket_name(environment_of(deployed.project, env)), archive})

    # Versioning kept every state the stack had: the one before the interrupted apply is still there, readable.
    after = state_versions(deployed, state_key)
    assert {v["VersionId"] for v in before} < {v["VersionId"] for v in after}
    kept = json.loads(s3.get_object(Bucket=bucket, Key=state_key, VersionId=current_before["VersionId"])["Body"].read())
    assert not any(resource["name"].startswith("archive-bucket") for resource in kept["resources"])
    assert json.loads(s3.get_object(Bucket=bucket, Key=state_key)["Body"].read())["serial"] > kept["serial"]
