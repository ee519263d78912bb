"""Terraform's S3 state lock (``use_lockfile``): what a held lock says, and releasing exactly one.

A plan or apply takes the lock by writing ``<state key>.tflock`` beside the state (only if it does not
exist) and deletes it when it ends. One that is killed (a CodeBuild build stopped, a laptop closed)
leaves it behind, and every later plan or apply of that stack fails with terraform's "Error acquiring
the state lock". ``recovery`` turns terraform's answer, or the lock object itself, into one line that
names the lock and says how to release it; ``release`` deletes the lock object only while it is the
one that was read (S3 conditional delete on its ETag), so a lock taken since is never removed.

The S3 client is passed in; boto3 is imported only by whoever makes it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from provisioner.configuration.naming import Naming
from provisioner.errors import UserError
from provisioner.operations import aws

TERRAFORM_LOCK_ERROR = "Error acquiring the state lock"
"""What terraform prints when another run holds the lock (after ``-lock-timeout``)."""
README_SECTION = "README: An apply was interrupted"
_FIELD = re.compile(r"^\s*(ID|Path|Operation|Who|Created):[ \t]*(.*?)\s*$", re.M)
_FRACTION = re.compile(r"\.\d+")
_DATE_T = re.compile(r"(?<=^\d{4}-\d\d-\d\d)T")
"""The ``T`` of an RFC 3339 time (the lock object's); terraform's error writes a space there."""

RECOVERY = (
    "the state of {stack} is locked: lock {id}, taken by {who} for {operation} at {created} (the lock object "
    "s3://{path}.tflock). If no plan or apply of {stack} is running now, an interrupted one left it: release it with "
    "provisioner unlock {stack} --lock-id {id} (or terraform force-unlock {id} in cdktf.out/stacks/{stack}), then run "
    f"the release again ({README_SECTION})"
)
"""The one line a team reads, from ``recovery`` here and from the pipeline's builds (``recovery_awk``)."""


@dataclass(frozen=True)
class Lock:
    """A lock as terraform records it (the ``.tflock`` object's JSON, or its "Lock Info" in an error)."""

    id: str
    path: str
    """``<bucket>/<state key>``: the state the lock protects; the lock object is this plus ``.tflock``."""
    operation: str
    """terraform's ``OperationTypeApply``, ``OperationTypePlan``, ..."""
    who: str
    """``user@host`` of the run that took it."""
    created: str
    version: str = ""
    etag: str = ""
    """The lock object's ETag when it was read from S3 (what ``release`` deletes on)."""

    @property
    def stack(self) -> str:
        """The stack whose state this is: ``.../stacks/<stack>/terraform.tfstate``."""
        return self.path.removesuffix("/terraform.tfstate").rsplit("/", 1)[-1]

    @property
    def action(self) -> str:
        """``apply``, ``plan``, ... (what the run was doing)."""
        return self.operation.removeprefix("OperationType").lower() or "an unnamed operation"

    @property
    def since(self) -> str:
        """When it was taken, to the second, in UTC (terraform records UTC)."""
        text = _FRACTION.sub("", self.created, count=1)
        for zone in (" +0000 UTC", "Z"):
            text = text.removesuffix(zone)
        return f"{_DATE_T.sub(' ', text, count=1)} UTC"


def recovery(lock: Lock) -> str:
    """One line: which lock holds which state, since when and by whom, and how to release it."""
    return RECOVERY.format(stack=lock.stack, id=lock.id, who=lock.who, operation=lock.action, created=lock.since, path=lock.path)


def lock_in_terraform_error(output: str) -> Lock | None:
    """The lock terraform's "Error acquiring the state lock" names in ``output``, or None for any other output."""
    if TERRAFORM_LOCK_ERROR not in output:
        return None
    fields = dict(_FIELD.findall(output.split(TERRAFORM_LOCK_ERROR, 1)[1]))
    if not fields.get("ID") or not fields.get("Path"):
        return None
    return Lock(id=fields["ID"], path=fields["Path"], operation=fields.get("Operation", ""), who=fields.get("Who", ""), created=fields.get("Created", ""))


def recovery_awk() -> str:
    """An awk program that prints ``provisioner: <recovery line>`` when its input holds terraform's lock error,
    and nothing otherwise: what the pipeline's plan and apply builds run on terraform's standard error.

    It writes the same line as ``recovery`` (a test runs both on terraform's own error).
    """
    parts = re.split(r"\{(\w+)\}", RECOVERY)
    names = {"stack": "stack", "id": "v[\"ID\"]", "who": "v[\"Who\"]", "operation": "op", "created": "at", "path": "v[\"Path\"]"}
    message = " ".join(names[part] if index % 2 else _awk_string(part) for index, part in enumerate(parts) if part or index % 2)
    return (
        f'/{TERRAFORM_LOCK_ERROR}/ {{ held = 1 }} '
        'held && match($0, /^ *(ID|Path|Operation|Who|Created):/) '
        '{ key = substr($0, 1, RLENGTH - 1); sub(/^ */, "", key); value = substr($0, RLENGTH + 1); '
        'sub(/^[ \\t]*/, "", value); sub(/[ \\t]*$/, "", value); v[key] = value } '
        'END { if (held && v["ID"] != "" && v["Path"] != "") { '
        'stack = v["Path"]; sub(/\\/terraform\\.tfstate$/, "", stack); sub(/.*\\//, "", stack); '
        'op = v["Operation"]; sub(/^OperationType/, "", op); op = tolower(op); if (op == "") op = "an unnamed operation"; '
        'at = v["Created"]; sub(/\\.[0-9]+/, "", at); sub(/ \\+0000 UTC$/, "", at); sub(/Z$/, "", at); if (at ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T/) at = substr(at, 1, 10) " " substr(at, 12); at = at " UTC"; '
        f'print "provisioner: " {message} }} }}'
    )


def _awk_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- the lock object in S3 -------------------------------------------------------------------------
def lock_key(stack: str) -> str:
    return Naming.state_lock_key(stack)


def read_lock(s3: Any, bucket: str, stack: str) -> Lock | None:
    """The lock held on ``stack``'s state, or None when there is none. Raises botocore errors for the rest."""
    key = lock_key(stack)
    try:
        answer = s3.get_object(Bucket=bucket, Key=key)
    except aws.api_errors() as error:
        if aws.error_code(error) in ("NoSuchKey", "404"):
            return None
        raise
    body = answer["Body"].read()
    try:
        recorded = json.loads(body)
        if not isinstance(recorded, Mapping):
            raise ValueError("not a JSON object")
        return Lock(
            id=str(recorded["ID"]),
            path=str(recorded.get("Path") or f"{bucket}/{Naming.state_key(stack)}"),
            operation=str(recorded.get("Operation", "")),
            who=str(recorded.get("Who", "")),
            created=str(recorded.get("Created", "")),
            version=str(recorded.get("Version", "")),
            etag=answer["ETag"],
        )
    except (ValueError, KeyError) as error:
        raise UserError(f"s3://{bucket}/{key}: not a terraform lock object ({error}); look at it before deleting it by hand") from None


class LockChanged(Exception):
    """The lock object is no longer the one that was read: another run took the lock since."""


def release(s3: Any, bucket: str, stack: str, lock: Lock) -> None:
    """Delete ``stack``'s lock object only while it is ``lock`` (its ETag): a lock taken since stays.

    Raises ``LockChanged`` when the object changed or went away after it was read.
    """
    try:
        s3.delete_object(Bucket=bucket, Key=lock_key(stack), IfMatch=lock.etag)
    except aws.api_errors() as error:
        if aws.error_code(error) in ("PreconditionFailed", "412", "NoSuchKey", "404"):
            raise LockChanged(lock_key(stack)) from None
        raise
