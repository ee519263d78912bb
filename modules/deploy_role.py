"""``DeployRole``: the role a DevOps-account pipeline assumes to deploy into a workload account."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment

from modules import policy, validation
from modules.framework import Construct

ADMINISTRATOR_ACCESS = ":iam::aws:policy/AdministratorAccess"
"""AWS's AdministratorAccess in any partition (aws, aws-cn, aws-us-gov) ends with this."""


@dataclass(frozen=True)
class DeployRoleProps:
    """Settings of a ``DeployRole``."""

    role_name: str
    """Name of the role in the workload account (at most 64 characters). Required."""
    trusted_role_arns: Sequence[str]
    """Exact role ARNs (in the DevOps account) allowed to assume it; no wildcards. Required, at least one."""
    managed_policy_arns: Sequence[str] = ()
    """Policies attached to the role: what deployments may do. Default: none (the role can do nothing)."""
    permissions_boundary_arn: str | None = None
    """Permissions boundary: the most the role may ever do, whatever is attached; required with AdministratorAccess.
    Default: none."""
    max_session_duration: int = 3600
    """Longest session in seconds (3600-43200). Default: one hour."""
    external_id: str | None = None
    """``sts:ExternalId`` the caller must present. Default: none."""
    description: str = "Assumed by the DevOps-account delivery pipeline to deploy this account's stacks"
    """Shown in the IAM console."""
    deny_statements: Sequence[policy.Statement] = ()
    """Deny statements (an inline policy) that hold whatever the attached policies allow, for example data
    reads of a read-only role. Each must have ``"Effect": "Deny"``. Default: none."""

    def __post_init__(self) -> None:
        validation.check_types(self)
        validation.check(self, "role_name", validation.ROLE_NAME)
        if not self.trusted_role_arns:
            raise ValueError("DeployRoleProps.trusted_role_arns needs at least one exact role ARN")
        validation.check(self, "trusted_role_arns", validation.ROLE_ARN)
        validation.check(self, "managed_policy_arns", validation.POLICY_ARN)
        validation.check(self, "permissions_boundary_arn", validation.POLICY_ARN)
        validation.check(self, "max_session_duration", validation.between(3600, 43200))
        validation.check(self, "external_id", validation.EXTERNAL_ID)
        if any(arn.endswith(ADMINISTRATOR_ACCESS) for arn in self.managed_policy_arns) and not self.permissions_boundary_arn:
            raise ValueError("DeployRoleProps: AdministratorAccess needs a permissions_boundary_arn")
        for statement in self.deny_statements:
            if statement.get("Effect") != "Deny":
                raise ValueError(f"DeployRoleProps.deny_statements: statement {statement.get('Sid')} must have Effect Deny")


class DeployRole(Construct):
    """A cross-account deployment role.

    Default settings: trust limited to the accounts of ``trusted_role_arns`` *and* to those exact
    roles through an ``ArnEquals aws:PrincipalArn`` condition (valid even before those roles exist,
    unlike a role ARN as principal); ``sts:ExternalId`` required when set; optional permissions
    boundary; only the managed policies named (never AdministratorAccess without a boundary).
    """

    def __init__(self, scope: Construct, id_: str, props: DeployRoleProps) -> None:
        super().__init__(scope, id_)
        self.props = props
        self.role = IamRole(
            self,
            "role",
            name=props.role_name,
            description=props.description,
            assume_role_policy=policy.document([self.trust_statement()]),
            max_session_duration=props.max_session_duration,
            permissions_boundary=props.permissions_boundary_arn,
        )
        if props.deny_statements:
            IamRolePolicy(self, "deny", name="explicit-deny", role=self.role.id, policy=policy.document(props.deny_statements))
        for arn in props.managed_policy_arns:
            IamRolePolicyAttachment(self, f"policy-{policy.policy_id(arn)}", role=self.role.name, policy_arn=arn)

    def trust_statement(self) -> policy.Statement:
        return policy.trust_roles("TrustPipelineRolesOnly", self.props.trusted_role_arns, self.props.external_id)

    @cached_property
    def role_arn(self) -> str:
        return self.role.arn

    @cached_property
    def role_name(self) -> str:
        return self.role.name

