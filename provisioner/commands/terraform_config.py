"""``provisioner terraform-config``: write the project's terraform CLI config."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from provisioner.operations import terraform_rc
from provisioner.paths import TERRAFORM_RC
from provisioner.runtime import ENV_SCRIPT, write_env_script


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "terraform-config",
        help="write .provisioner/terraform.rc (provider mirror when found, registry otherwise) and .provisioner/env.sh",
        description=(
            "Write the terraform CLI config that every project script points TF_CLI_CONFIG_FILE at. "
            f"Uses the provider filesystem mirror named by --mirror or ${terraform_rc.MIRROR_ENV}, "
            "else the first mirror found in the usual places, else the public registry."
        ),
    )
    parser.add_argument("--mirror", help="folder holding registry.terraform.io/hashicorp/aws/<version>/")
    parser.add_argument("--output", type=Path, default=TERRAFORM_RC, help="where to write (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.mirror:
        mirror = terraform_rc.find_mirror(args.mirror, f"--mirror {args.mirror}")
    else:
        named = os.environ.get(terraform_rc.MIRROR_ENV)
        mirror = terraform_rc.find_mirror(named, f"{terraform_rc.MIRROR_ENV}={named}")
    changed = terraform_rc.write(args.output, mirror)
    source = f"filesystem mirror {mirror}" if mirror else "public registry (no mirror found)"
    print(f"terraform CLI config {args.output}: {'written' if changed else 'unchanged'}, providers from {source}")
    write_env_script()
    print(f"shell environment for cdktf/terraform by hand: source {ENV_SCRIPT.relative_to(ENV_SCRIPT.parent.parent)}")
    return 0
