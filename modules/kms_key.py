"""``KmsKey``: a customer-managed KMS key with rotation, an alias and an explicit key policy."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey as _KmsKeyResource

from modules import policy, validation
from modules.framework import Construct


@dataclass(frozen=True)
class KmsKeyProps:
    """Settings of a ``KmsKey``."""

    alias: str
    """Alias name, starting with ``alias/`` (not ``alias/aws/``, which AWS reserves). Required."""
    account_id: str
    """Account that owns the key; its root keeps full control (AWS's default key-policy statement). Required."""
    description: str = "Managed by the pipeline provisioner"
    """Shown in the KMS console."""
    user_role_arns: Sequence[str] = ()
    """Roles (any account) allowed to encrypt and decrypt with the key. Default: none."""
    extra_statements: Sequence[policy.Statement] = ()
    """More key-policy statements, for example for a service principal such as CloudWatch Logs. Default: none."""
    deletion_window_in_days: int = 30
    """Waiting period before a scheduled deletion completes (7-30). Default: 30, the maximum."""
    partition: str = "aws"
    """ARN partition of the account: ``aws-cn`` in the China regions, ``aws-us-gov`` in AWS GovCloud (US).
    Default: ``aws``."""

    def __post_init__(self) -> None:
        validation.check_types(self)
        policy.check_partition("KmsKeyProps", self.partition)
        validation.check(self, "alias", validation.KMS_ALIAS)
        validation.check(self, "account_id", validation.ACCOUNT_ID)
        validation.check(self, "user_role_arns", validation.ROLE_ARN, validation.in_partition(self.partition))
        validation.check(self, "deletion_window_in_days", validation.between(7, 30))


class KmsKey(Construct):
    """A symmetric customer-managed key.

    Default settings: automatic rotation on, 30-day deletion window, a key policy that gives the
    owning account's root full control (so IAM policies in that account can grant use) and gives
    each role in ``user_role_arns`` exactly the actions of ``policy.KMS_USE_ACTIONS``.
    Always reference the key by ``key_arn``: aliases only resolve inside the owning account.
    """

    def __init__(self, scope: Construct, id_: str, props: KmsKeyProps) -> None:
        super().__init__(scope, id_)
        self.props = props
        self.key = _KmsKeyResource(
            self,
            "key",
            description=props.description,
            enable_key_rotation=True,
            deletion_window_in_days=props.deletion_window_in_days,
            policy=policy.document(self.policy_statements()),
        )
        self.alias = KmsAlias(self, "alias", name=props.alias, target_key_id=self.key.key_id)

    def policy_statements(self) -> list[policy.Statement]:
        root = policy.arn(self.props.partition, "iam", "", self.props.account_id, "root")
        statements: list[policy.Statement] = [
            {"Sid": "AccountRootFullControl", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"}
        ]
        if self.props.user_role_arns:
            statements.append(policy.allow_roles("AllowUseByRoles", self.props.user_role_arns, policy.KMS_USE_ACTIONS, None))
        statements.extend(self.props.extra_statements)
        return statements

    @cached_property
    def key_arn(self) -> str:
        return self.key.arn

    @cached_property
    def key_id(self) -> str:
        return self.key.key_id
