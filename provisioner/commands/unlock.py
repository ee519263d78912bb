"""``provisioner unlock``: release the state lock an interrupted plan or apply left behind."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from pathlib import Path

from provisioner.configuration.naming import DEVOPS_STACK, Naming
from provisioner.configuration.settings import load
from provisioner.configuration.target import target_from_environment
from provisioner.errors import UserError
from provisioner.paths import ENVIRONMENTS_DIR

NEEDED = "s3:ListBucket on the state bucket, s3:GetObject and s3:DeleteObject on the lock object, and kms:Decrypt on the state key"
"""What the caller needs, in words: the grant ``provisioner.app.access.unlock_statements`` writes (a test holds them together)."""

EPILOG = f"""\
A plan or apply takes its stack's lock by writing stacks/<stack>/terraform.tfstate.tflock in the
state bucket and deletes it when it ends; one that was killed (a stopped build, a closed laptop)
leaves it, and every later plan or apply of the stack fails with "Error acquiring the state lock".
Release it only when no plan or apply of that stack is running (the pipeline's execution history
and the lock's who and when tell you). The lock is removed only while it is the one shown: a lock
taken in the meantime is left alone.

exit codes: 0 released; 1 an AWS error, or the lock changed while being released; 2 bad input
(unknown stack, no lock held, --lock-id not the lock held, neither --lock-id nor --yes)
{textwrap.fill(f"credentials: the DevOps account's, allowed {NEEDED}", width=100)}"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "unlock",
        help="show and release the state lock an interrupted plan or apply left on a stack",
        description=(
            "Read the lock object of STACK's state (who took it, when, for which operation) and release exactly "
            "that lock: given --lock-id ID only when ID is the lock held, or with --yes. The same as "
            "`terraform force-unlock ID` in the stack's directory, without needing it initialized, and never "
            "removing a lock taken after the one shown."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("stack", metavar="STACK", help="devops, bootstrap-<env> or workload-<env>")
    parser.add_argument("--lock-id", metavar="ID", help="release the lock only if it is this one (the ID terraform's error and this command show)")
    parser.add_argument("--yes", action="store_true", help="release the lock held, whatever its id")
    parser.add_argument("--environments", type=Path, default=ENVIRONMENTS_DIR, help="folder to read (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from provisioner.operations import aws, state_lock

    project = load(args.environments)
    stacks = [DEVOPS_STACK, *(env.bootstrap_stack for env in project.environments), *(env.workload_stack for env in project.environments)]
    if args.stack not in stacks:
        raise UserError(f"{args.environments}: unknown stack {args.stack!r}; the stacks are {', '.join(stacks)}")
    if args.lock_id is not None and not args.lock_id.strip():
        raise UserError("--lock-id: empty; give the ID terraform's error or `provisioner unlock STACK` shows")
    bucket = project.naming.state_bucket
    where = f"s3://{bucket}/{Naming.state_lock_key(args.stack)}"
    s3 = aws.client(target_from_environment(os.environ), "s3", project.devops.region)
    try:
        lock = state_lock.read_lock(s3, bucket, args.stack)
    except aws.api_errors() as error:
        raise UserError(f"cannot read {where}: {_explained(error)}", exit_code=1) from None
    if lock is None:
        raise UserError(f"no lock is held on {args.stack}: {where} does not exist; nothing to release")
    shown = f"lock {lock.id} on {args.stack}: {lock.action} by {lock.who} since {lock.since} (terraform {lock.version or 'unknown'}), {where}"
    print(shown)
    if args.lock_id is not None and args.lock_id.strip() != lock.id:
        raise UserError(f"--lock-id {args.lock_id.strip()}: the lock held on {args.stack} is {lock.id} (shown above); nothing released")
    if args.lock_id is None and not args.yes:
        raise UserError(
            f"not released: make sure no plan or apply of {args.stack} is running, then run "
            f"provisioner unlock {args.stack} --lock-id {lock.id}"
        )
    try:
        state_lock.release(s3, bucket, args.stack, lock)
    except state_lock.LockChanged:
        raise UserError(
            f"{where} changed while being released (another run took or released the lock): nothing removed; "
            f"run provisioner unlock {args.stack} again to see the lock held now",
            exit_code=1,
        ) from None
    except aws.api_errors() as error:
        raise UserError(f"cannot delete {where}: {_explained(error)}", exit_code=1) from None
    print(f"released lock {lock.id} on {args.stack}: the next plan or apply of {args.stack} takes the lock again", file=sys.stdout)
    return 0


def _explained(error: BaseException) -> str:
    from provisioner.operations import aws

    problem = aws.explain(error)
    if aws.error_code(error) in aws.ACCESS_DENIED_CODES:
        return f"{problem.message}; the caller needs {NEEDED}"
    return problem.in_one_line()
