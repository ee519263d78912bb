"""The one place that imports the CDK framework.

CDK for Terraform (``cdktf``) is archived upstream; its community fork is CDK Terrain (``cdktn``).
Every construct and stack imports framework classes from here, so moving to the fork is a change to
this file (and the provider package pin), not to every module.
"""

from cdktf import (
    App,
    Fn,
    LocalBackend,
    S3Backend,
    S3BackendAssumeRoleConfig,
    TerraformLocal,
    TerraformOutput,
    TerraformStack,
    TerraformVariable,
    Testing,
    Token,
)
from constructs import Construct

__all__ = [
    "App",
    "Construct",
    "Fn",
    "LocalBackend",
    "S3Backend",
    "S3BackendAssumeRoleConfig",
    "TerraformLocal",
    "TerraformOutput",
    "TerraformStack",
    "TerraformVariable",
    "Testing",
    "Token",
]
