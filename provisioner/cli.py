"""The ``provisioner`` command line.

Each sub-command lives in its own module under ``provisioner/commands/`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (``args -> exit code``).
Heavy imports (the AWS provider bindings, boto3) happen inside the commands, so ``--help`` and
config errors stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from importlib.metadata import version

from provisioner.colour import RED, paint
from provisioner.errors import UserError, error_lines
from provisioner.interruption import TERMINATED_EXIT_CODE, Terminated, sigterm_raises

COMMAND_MODULES = (
    "provisioner.commands.check",
    "provisioner.commands.synth",
    "provisioner.commands.scan",
    "provisioner.commands.terraform_config",
    "provisioner.commands.bootstrap_state",
    "provisioner.commands.plan_summary",
    "provisioner.commands.plan",
    "provisioner.commands.drift",
    "provisioner.commands.unlock",
    "provisioner.commands.pr_comment",
    "provisioner.commands.cost",
    "provisioner.commands.doctor",
    "provisioner.commands.status",
    "provisioner.commands.local_aws",
    "provisioner.commands.demo",
)


class _PrintVersion(argparse.Action):
    """``--version``, read from the installed package only when asked: the pipeline's builds run this file
    from the repository, where no package is installed."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object, option_string: str | None = None) -> None:
        print(f"{parser.prog} {version('pipeline-provisioner')}")
        parser.exit()


def build_parser(modules: tuple[str, ...] = COMMAND_MODULES) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="provisioner",
        description=(
            "Pipeline provisioner: turns environments/ into a DevOps-account delivery pipeline, "
            "workload-account deployment roles and workload stacks (CDK for Terraform)."
        ),
    )
    parser.add_argument("--version", action=_PrintVersion)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in modules:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None, modules: tuple[str, ...] = COMMAND_MODULES) -> int:
    """Run one command; ``modules`` limits the commands known (a build that carries only some of them)."""
    parser = build_parser(modules)
    args = parser.parse_args(argv)
    try:
        with sigterm_raises():
            return int(args.func(args) or 0)
    except UserError as error:
        for line in error_lines(error):
            print(paint(line, RED, sys.stderr), file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except Terminated:
        _error("terminated")
        return TERMINATED_EXIT_CODE
    except BrokenPipeError:
        # The reader went away (`provisioner ... | head`): stop quietly, as other command-line tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def _error(line: str) -> None:
    print(paint(f"provisioner: {line}", RED, sys.stderr), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
