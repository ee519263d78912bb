"""Resource addresses must not move by accident: terraform would destroy and recreate the resource.

The snapshot lists every resource address of the repository's stacks. A change to it must be
deliberate (and come with `moved` blocks for existing installations): regenerate it with
`UPDATE_SNAPSHOTS=1 make test` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import Synthesized

SNAPSHOT = Path(__file__).parent / "snapshots" / "resource_addresses.json"


def addresses(synth: Synthesized) -> dict[str, list[str]]:
    return {
        stack: sorted(f"{rtype}.{name}" for rtype, items in doc.get("resource", {}).items() for name in items)
        for stack, doc in synth.stacks.items()
    }


def test_resource_addresses_match_the_snapshot(example_synth: Synthesized) -> None:
    current = addresses(example_synth)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    for stack in sorted(set(expected) | set(current)):
        moved_away = sorted(set(expected.get(stack, [])) - set(current.get(stack, [])))
        new = sorted(set(current.get(stack, [])) - set(expected.get(stack, [])))
        assert not moved_away and not new, (
            f"{stack}: resource addresses changed (renamed construct ids destroy and recreate resources).\n"
            f"  gone: {moved_away}\n  new: {new}\n"
            "If deliberate, add moved blocks and run UPDATE_SNAPSHOTS=1 make test"
        )


def test_policy_attachment_ids_come_from_policy_names_not_positions(alt_synth: Synthesized) -> None:
    """Reordering managed_policy_arns must not move attachments."""
    live = addresses(alt_synth)["bootstrap-live"]
    attachments = sorted(a for a in live if a.startswith("aws_iam_role_policy_attachment."))
    assert len(attachments) == 2, attachments
    deployer, planner = attachments
    assert deployer.startswith("aws_iam_role_policy_attachment.deployment-role_policy-AdministratorAccess_")
    assert planner.startswith("aws_iam_role_policy_attachment.plan-role_policy-ReadOnlyAccess_")


def test_adding_the_plan_role_kept_the_deployment_role_address(example_synth: Synthesized) -> None:
    """The plan role was added beside the deployment role: the existing role must not be destroyed and recreated."""
    for env in example_synth.project.environments:
        found = addresses(example_synth)[env.bootstrap_stack]
        assert "aws_iam_role.deployment-role_28519DEA" in found, env.name
        assert "aws_iam_role_policy_attachment.deployment-role_policy-PowerUserAccess_0F2FA34A" in found, env.name
        assert sorted(a for a in found if a.startswith("aws_iam_role.")) == ["aws_iam_role.deployment-role_28519DEA", "aws_iam_role.plan-role_E487355C"]
