"""``provisioner bootstrap-state`` picks exactly the state key and bucket resources to apply first.

The whole flow against the emulator is in ``tests/integration/``.
"""

from __future__ import annotations

import pytest

from provisioner.errors import UserError
from provisioner.operations.state_bootstrap import state_resource_addresses
from tests.conftest import Synthesized


def test_targets_are_every_resource_of_the_state_key_and_bucket_and_nothing_else(example_synth: Synthesized) -> None:
    devops = example_synth.stacks["devops"]
    addresses = state_resource_addresses(devops)
    types = {address.split(".")[0] for address in addresses}
    assert {"aws_kms_key", "aws_kms_alias", "aws_s3_bucket", "aws_s3_bucket_versioning", "aws_s3_bucket_policy"} <= types
    for address in addresses:
        resource_type, name = address.split(".")
        path = devops["resource"][resource_type][name]["//"]["metadata"]["path"]
        assert path.startswith(("devops/state-key/", "devops/state-bucket/")), path
    everything = [f"{t}.{n}" for t, resources in devops["resource"].items() for n in resources]
    state_paths = [
        address
        for address in everything
        if devops["resource"][address.split(".")[0]][address.split(".")[1]]["//"]["metadata"]["path"].split("/")[1]
        in ("state-key", "state-bucket")
    ]
    assert sorted(state_paths) == addresses
    assert not any("artifacts" in address for address in addresses)


def test_a_stack_without_state_constructs_is_an_error() -> None:
    with pytest.raises(UserError, match="no resources under devops/state-key/, devops/state-bucket/"):
        state_resource_addresses({"resource": {"aws_s3_bucket": {"x": {"//": {"metadata": {"path": "devops/artifacts/bucket"}}}}}})
