"""``ServiceRole``: an IAM role an AWS service assumes, limited to this account's own resources."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment

from modules import policy, validation
from modules.framework import Construct


@dataclass(frozen=True)
class ServiceRoleProps:
    """Settings of a ``ServiceRole``."""

    role_name: str
    """Role name (at most 64 characters). Required."""
    service: str
    """Service principal, for example ``codebuild.amazonaws.com``. Required."""
    account_id: str
    """The only account whose resources may make the service assume the role (``aws:SourceAccount``). Required."""
    source_arns: Sequence[str]
    """ARNs (wildcards allowed) of the resources allowed to use the role (``aws:SourceArn``). Required."""
    statements: Sequence[policy.Statement]
    """What the role may do (inline policy). Statements with ``*`` actions on ``*`` resources are refused."""
    description: str = "Managed by the pipeline provisioner"
    """Shown in the IAM console."""
    managed_policy_arns: Sequence[str] = ()
    """Managed policies attached too (for example ``ReadOnlyAccess``). Default: none."""
    deny_statements: Sequence[policy.Statement] = ()
    """Explicit denies, in a second inline policy ``explicit-deny`` (they win over every allow). Default: none."""

    def __post_init__(self) -> None:
        validation.check_types(self)
        validation.check(self, "role_name", validation.ROLE_NAME)
        validation.check(self, "service", validation.SERVICE_PRINCIPAL)
        validation.check(self, "account_id", validation.ACCOUNT_ID)
        if not self.source_arns:
            raise ValueError(f"ServiceRoleProps({self.role_name}).source_arns needs at least one ARN")
        validation.check(self, "source_arns", validation.ANY_ARN)
        validation.check(self, "managed_policy_arns", validation.POLICY_ARN)
        if any(statement.get("Effect") != "Deny" for statement in self.deny_statements):
            raise ValueError(f"ServiceRoleProps({self.role_name}).deny_statements: every statement must have Effect Deny")
        for statement in self.statements:
            actions = _as_list(statement.get("Action"))
            resources = _as_list(statement.get("Resource"))
            if statement.get("Effect") == "Allow" and "*" in resources and any(a == "*" or a.endswith(":*") for a in actions):
                raise ValueError(f"ServiceRoleProps({self.role_name}): statement {statement.get('Sid')} allows * actions on * resources")


class ServiceRole(Construct):
    """A service role.

    Default settings: trust only ``service``, and only on behalf of ``account_id`` and the resources in
    ``source_arns`` (confused-deputy protection via ``aws:SourceAccount`` and ``aws:SourceArn``); one
    inline policy with exactly the statements given; the explicit denies and managed policies given, if any.
    """

    def __init__(self, scope: Construct, id_: str, props: ServiceRoleProps) -> None:
        super().__init__(scope, id_)
        self.props = props
        self.role = IamRole(
            self,
            "role",
            name=props.role_name,
            description=props.description,
            assume_role_policy=policy.document([self.trust_statement()]),
        )
        self.policy = IamRolePolicy(self, "policy", name="least-privilege", role=self.role.id, policy=policy.document(props.statements))
        if props.deny_statements:
            IamRolePolicy(self, "deny", name="explicit-deny", role=self.role.id, policy=policy.document(props.deny_statements))
        for arn in props.managed_policy_arns:
            # The id comes from the policy's path and name, not its position (reordering the list must not move
            # addresses), by this rule as it always has, not ``policy.policy_id`` (DeployRole's): teams' stacks
            # hold these addresses, and another id would re-create the attachment.
            name = arn.split(":policy/", 1)[1].replace("/", "-")
            IamRolePolicyAttachment(self, f"policy-{name}", role=self.role.name, policy_arn=arn)

    def trust_statement(self) -> policy.Statement:
        return policy.trust_service(self.props.service, self.props.account_id, self.props.source_arns)

    @cached_property
    def role_arn(self) -> str:
        return self.role.arn

    @cached_property
    def role_name(self) -> str:
        return self.role.name


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)  # type: ignore[arg-type]
