"""The project's own terraform CLI configuration (``TF_CLI_CONFIG_FILE``).

Terraform reads provider-installation rules from a CLI config file. Offline machines carry the AWS
provider in a filesystem mirror; laptops with internet use the public registry. ``make setup``
writes ``.provisioner/terraform.rc`` once and every script points ``TF_CLI_CONFIG_FILE`` at it, so a
user's own ``~/.terraformrc`` is never read or changed.
"""

from __future__ import annotations

from pathlib import Path

from provisioner.errors import UserError
from provisioner.runtime import write_if_changed

AWS_PROVIDER_SOURCE = "registry.terraform.io/hashicorp/aws"
MIRROR_ENV = "PROVISIONER_PROVIDER_MIRROR"

# Where provider mirrors are usually unpacked; checked in order after the folder a user names.
CANDIDATE_MIRRORS = (
    Path("/opt/tf-plugins"),
    Path("/opt/terraform/plugins"),
    Path("/usr/local/share/terraform/plugins"),
    Path("/usr/share/terraform/plugins"),
    Path.home() / ".terraform.d" / "plugins",
    Path.home() / ".local" / "share" / "terraform" / "plugins",
)


def is_mirror(folder: Path) -> bool:
    """True when ``folder`` holds at least one version of the AWS provider in mirror layout."""
    provider = folder / AWS_PROVIDER_SOURCE
    return provider.is_dir() and any(child.is_dir() for child in provider.iterdir())


def find_mirror(named: str | None = None, written: str | None = None) -> Path | None:
    """The mirror to use: the one named (must be valid), else the first candidate found, else None.

    ``written`` is how the user named it (``--mirror /x`` or ``PROVISIONER_PROVIDER_MIRROR=/x``), for the message."""
    if named:
        folder = Path(named).expanduser().resolve()
        if not is_mirror(folder):
            raise UserError(
                f"{written or named}: no {AWS_PROVIDER_SOURCE}/<version>/ folder inside; "
                "point it at the folder that holds registry.terraform.io/"
            )
        return folder
    return next((folder for folder in CANDIDATE_MIRRORS if is_mirror(folder)), None)


def render(mirror: Path | None) -> str:
    """The CLI config text: the mirror for the AWS provider when there is one, the registry otherwise."""
    header = "# Written by `provisioner terraform-config` (make setup). Do not edit: re-run it instead.\n"
    if mirror is None:
        return header + "provider_installation {\n  direct {}\n}\n"
    return header + (
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n'
        f'    include = ["{AWS_PROVIDER_SOURCE}"]\n'
        "  }\n"
        "  direct {\n"
        f'    exclude = ["{AWS_PROVIDER_SOURCE}"]\n'
        "  }\n"
        "}\n"
    )


def write(target: Path, mirror: Path | None) -> bool:
    """Write the config atomically; returns True when the file changed."""
    return write_if_changed(target, render(mirror))
