"""``modules.kms_key.KmsKey``: rotation, deletion window, alias and an explicit key policy."""

from __future__ import annotations

import pytest

from modules.kms_key import KmsKeyProps
from tests.modules.helpers import KMS_USE_ACTIONS, READER_A, READER_B, all_resources, by_sid, ref, root_arn, statements, where


def owner_account(synth, stack_name: str) -> str:
    project = synth.project
    if stack_name == "devops":
        return project.devops.account_id
    return next(env.account_id for env in project.environments if stack_name.endswith(f"-{env.name}"))


def test_every_key_rotates_and_keeps_the_longest_deletion_window(synth) -> None:
    keys = list(all_resources(synth.stacks, "aws_kms_key"))
    # The artifact key, the state key, and one data key per workload stack.
    assert len(keys) == 2 + len(synth.project.environments)
    for stack, lid, key in keys:
        assert key["enable_key_rotation"] is True, f"{stack}/{lid}"
        assert key["deletion_window_in_days"] == 30, f"{stack}/{lid}"


def test_deletion_window_comes_from_the_props(examples) -> None:
    (key,) = examples["resource"]["aws_kms_key"].values()
    assert key["deletion_window_in_days"] == 7
    assert key["enable_key_rotation"] is True


def test_every_key_has_exactly_one_alias_pointing_at_it(synth) -> None:
    prefix = synth.project.devops.name_prefix
    expected = {
        "devops": {f"alias/{prefix}-artifacts", f"alias/{prefix}-tfstate"},
        **{env.workload_stack: {f"alias/{prefix}-{env.name}-data"} for env in synth.project.environments},
    }
    for stack_name, stack in synth.stacks.items():
        keys = stack.get("resource", {}).get("aws_kms_key", {})
        aliases = stack.get("resource", {}).get("aws_kms_alias", {})
        assert sorted(a["target_key_id"] for a in aliases.values()) == sorted(ref("aws_kms_key", lid, "key_id") for lid in keys)
        assert {a["name"] for a in aliases.values()} == expected.get(stack_name, set()), stack_name


def test_key_policy_starts_with_the_owning_accounts_root(synth) -> None:
    for stack, lid, key in all_resources(synth.stacks, "aws_kms_key"):
        assert statements(key)[0] == {
            "Sid": "AccountRootFullControl",
            "Effect": "Allow",
            "Principal": {"AWS": root_arn(owner_account(synth, stack))},
            "Action": "kms:*",
            "Resource": "*",
        }, f"{stack}/{lid}"


def test_key_without_users_has_only_the_root_statement(example_synth) -> None:
    _, state_key = where(example_synth.stacks["devops"], "aws_kms_key", description="acme-platform: encrypts Terraform state of every stack")
    assert [s["Sid"] for s in statements(state_key)] == ["AccountRootFullControl"]


def test_users_statement_names_account_roots_and_pins_exact_roles(examples) -> None:
    (key,) = examples["resource"]["aws_kms_key"].values()
    users = by_sid(key)["AllowUseByRoles"]
    assert users == {
        "Sid": "AllowUseByRoles",
        "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"]},
        "Action": KMS_USE_ACTIONS,
        "Resource": "*",
        "Condition": {"ArnEquals": {"aws:PrincipalArn": sorted([READER_A, READER_B])}},
    }


# --- props validation --------------------------------------------------------------------------
def props(**overrides) -> KmsKeyProps:
    return KmsKeyProps(**{"alias": "alias/example", "account_id": "111111111111", **overrides})


@pytest.mark.parametrize("alias", ["example", "aliases/example", "alias/aws/s3"])
def test_alias_must_start_with_alias_and_not_name_an_aws_managed_key(alias: str) -> None:
    with pytest.raises(ValueError) as error:
        props(alias=alias)
    assert str(error.value) == (
        f'KmsKeyProps.alias "{alias}" must start with "alias/" (and not "alias/aws/", which AWS reserves), then 1-250 letters, digits and /_-'
    )


@pytest.mark.parametrize("days", [6, 31, 0])
def test_deletion_window_must_be_7_to_30_days(days: int) -> None:
    with pytest.raises(ValueError) as error:
        props(deletion_window_in_days=days)
    assert str(error.value) == f"KmsKeyProps.deletion_window_in_days {days} must be 7-30"


@pytest.mark.parametrize("days", [7, 30])
def test_deletion_window_bounds_are_accepted(days: int) -> None:
    assert props(deletion_window_in_days=days).deletion_window_in_days == days


@pytest.mark.parametrize(
    "arn",
    ["arn:aws:iam::222222222222:role/*", "arn:aws:iam::222222222222:role/deploy-?", "arn:aws:iam::*:role/deploy", "arn:aws:iam::222222222222:user/deploy"],
)
def test_user_roles_must_be_exact_role_arns(arn: str) -> None:
    with pytest.raises(ValueError) as error:
        props(user_role_arns=[READER_A, arn])
    assert str(error.value) == f'KmsKeyProps.user_role_arns[1] "{arn}" is not an exact IAM role ARN (arn:<partition>:iam::<12 digits>:role/<name>, no wildcards)'


def test_partition_must_be_an_aws_partition() -> None:
    with pytest.raises(ValueError) as error:
        props(partition="aws-eu")
    assert str(error.value) == 'KmsKeyProps.partition "aws-eu" must be one of aws, aws-cn, aws-us-gov'


def test_user_roles_must_be_in_the_keys_partition() -> None:
    assert props(partition="aws-cn", user_role_arns=["arn:aws-cn:iam::222222222222:role/reader"]).partition == "aws-cn"
    with pytest.raises(ValueError) as error:
        props(partition="aws-cn", user_role_arns=[READER_A])
    assert str(error.value) == f'KmsKeyProps.user_role_arns[0] "{READER_A}" is not in the partition aws-cn (the partition field)'
