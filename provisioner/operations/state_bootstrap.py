"""Create the remote state bucket that every stack's S3 backend needs, with the state it will then hold.

The chicken and egg: the ``devops`` stack keeps its state in the bucket it creates. So, once:

1. synthesize with ``devops`` on a local backend (``PROVISIONER_DEVOPS_LOCAL_STATE``, a file under
   ``.provisioner/bootstrap/``),
2. ``terraform apply -target`` exactly the resources of the state key and state bucket constructs
   (``STATE_CONSTRUCT_IDS``, found by their construct path in ``cdk.tf.json``),
3. synthesize normally (S3 backend) into the same stack folder and ``terraform init -migrate-state
   -force-copy``: terraform copies the local state into the bucket.

Afterwards ``cdktf deploy devops`` deploys the rest of the stack on the S3 backend. A failure stops at
its step and leaves the local state file untouched, so running again resumes: an apply picks up what
exists, and a bucket that exists while the local state was not yet migrated resumes at step 3.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Mapping

from provisioner.configuration.naming import DEVOPS_STACK, Naming
from provisioner.configuration.settings import ProjectConfig
from provisioner.configuration.target import TARGET_ENV, Target
from provisioner.delivery import terraform
from provisioner.errors import UserError
from provisioner.operations import aws
from provisioner.paths import STATE_DIR, repository_relative
from provisioner.progress import Progress

DEFAULT_LOCAL_STATE = STATE_DIR / "bootstrap" / "devops.tfstate"
MIGRATED_SUFFIX = ".migrated"


def state_resource_addresses(stack_json: Mapping) -> list[str]:
    """Terraform addresses of every resource under ``devops/<state construct>/`` in a synthesized stack."""
    from provisioner.app.stacks.devops import STATE_CONSTRUCT_IDS

    prefixes = tuple(f"{DEVOPS_STACK}/{construct}/" for construct in STATE_CONSTRUCT_IDS)
    addresses = [
        f"{resource_type}.{name}"
        for resource_type, resources in stack_json.get("resource", {}).items()
        for name, body in resources.items()
        if body.get("//", {}).get("metadata", {}).get("path", "").startswith(prefixes)
    ]
    if not addresses:
        raise UserError(f"no resources under {', '.join(prefixes)} in the synthesized {DEVOPS_STACK} stack: the construct ids changed?")
    return sorted(addresses)


def bootstrap_state(
    project: ProjectConfig,
    *,
    outdir: Path,
    progress: Progress,
    env: Mapping[str, str],
    target: Target,
    local_state: Path = DEFAULT_LOCAL_STATE,
) -> bool:
    """Create the state bucket and move the devops state into it; False when the bucket already existed.

    ``target`` is where it deploys, for synthesis and AWS calls alike; ``env`` is terraform's environment.
    """
    from provisioner.app.synthesis import synthesize

    clients = aws.client_factory(target)
    naming = project.naming
    bucket, state_key = naming.state_bucket, Naming.state_key(DEVOPS_STACK)
    local_state = Path(local_state).resolve()
    stack_dir = Path(outdir) / "stacks" / DEVOPS_STACK

    with progress.step(f"check the state bucket {bucket} (account {project.devops.account_id}, {project.devops.region})"):
        exists = _check_bucket(project, bucket, clients, target)
        holds_state = exists and _object_exists(project, bucket, state_key, clients)
        migrate_only = exists and not holds_state and local_state.is_file()
    if exists and not migrate_only:
        progress.say(f"    the state bucket {bucket} already exists: nothing to bootstrap")
        if not holds_state:
            progress.say(
                f"    warning: it holds no {state_key} and there is no {repository_relative(local_state)} to move into it; "
                f"`terraform import` the state key and bucket before deploying {DEVOPS_STACK}"
            )
        return False
    if migrate_only:
        progress.say(f"    the bucket exists but {local_state} was not moved into it yet: resuming at the migration")
    else:
        local_state.parent.mkdir(parents=True, exist_ok=True)
        with progress.step(f"synthesize with the {DEVOPS_STACK} state in a local file ({repository_relative(local_state)})"):
            synthesize(project, outdir, dataclasses.replace(target, devops_local_state=local_state))
            targets = state_resource_addresses(json.loads((stack_dir / "cdk.tf.json").read_text()))
        with progress.step("terraform init (local state)"):
            progress.run("terraform init (local state)", (*terraform.INIT, "-reconfigure"), cwd=stack_dir, env=env)
        with progress.step(f"terraform apply: the state key and bucket ({len(targets)} resources)"):
            apply = ("terraform", "apply", "-auto-approve", "-input=false", "-no-color", *(f"-target={t}" for t in targets))
            progress.run("terraform apply state key and bucket", apply, cwd=stack_dir, env=env)
    with progress.step(f"synthesize with the S3 backend (s3://{bucket}/{state_key})"):
        synthesize(project, outdir, dataclasses.replace(target, devops_local_state=None))
    with progress.step("terraform init -migrate-state: copy the local state into the bucket"):
        progress.run("terraform init migrate state", (*terraform.INIT, "-migrate-state", "-force-copy"), cwd=stack_dir, env=env)
        if not _object_exists(project, bucket, state_key, clients):
            raise UserError(f"terraform reported success but s3://{bucket}/{state_key} does not exist; {local_state} is kept")
    # Kept, not deleted: it is the only copy if the bucket is ever lost before versioning matters.
    os.replace(local_state, local_state.with_name(local_state.name + MIGRATED_SUFFIX))
    progress.say(f"    remote state ready: s3://{bucket}/{state_key} (the local copy is kept as {repository_relative(local_state)}{MIGRATED_SUFFIX})")
    return True


def _check_bucket(project: ProjectConfig, bucket: str, client: aws.ClientFactory, target: Target) -> bool:
    """True when the bucket exists in the DevOps account; UserError when it cannot be used."""
    region = project.devops.region
    try:
        account = client("sts", region).get_caller_identity()["Account"]
    except aws.api_errors() as error:
        raise UserError(f"cannot reach AWS: {aws.explain(error).message}") from None
    if account != project.devops.account_id:
        fix = (
            f"with {TARGET_ENV}=local the DevOps account must be {account}, as in demo/environments/devops.hcl"
            if target.is_local
            else "use credentials for the DevOps account"
        )
        raise UserError(f"the credentials act in account {account}, but devops.hcl says the DevOps account is {project.devops.account_id}: {fix}")
    try:
        client("s3", region).head_bucket(Bucket=bucket)
    except aws.api_errors() as error:
        code = aws.error_code(error)
        if code in ("404", "NoSuchBucket", "NotFound"):
            return False
        if code in ("403", "AccessDenied", "Forbidden"):
            raise UserError(
                f"the state bucket name {bucket} is taken by another account or denied to these credentials: "
                "change name_prefix in devops.hcl"
            ) from None
        raise UserError(f"checking the state bucket {bucket}: {aws.explain(error).message}") from None
    return True


def _object_exists(project: ProjectConfig, bucket: str, key: str, client: aws.ClientFactory) -> bool:
    try:
        client("s3", project.devops.region).head_object(Bucket=bucket, Key=key)
    except aws.api_errors() as error:
        if aws.error_code(error) in ("404", "NoSuchKey", "NotFound"):
            return False
        raise UserError(f"checking s3://{bucket}/{key}: {aws.explain(error).message}") from None
    return True


