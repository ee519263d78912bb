"""Reusable CDK for Terraform constructs for cross-account delivery on AWS.

One construct per module, each configured by one documented ``XxxProps`` dataclass. Import the
module you need (``from modules.deploy_role import DeployRole, DeployRoleProps``): this package
imports nothing on its own, so loading one construct does not load the others.
"""
