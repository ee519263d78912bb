"""Reusable CDK for Terraform constructs for cross-account delivery on AWS.

One construct per module, each configured by one documented ``XxxProps`` dataclass. Import the
module you need (``from modules.deploy_role import DeployRole, DeployRoleProps``): this package
imports nothing on its own, so loading one construct does not load the others. It does arrange
(standard library only, ``modules.provider_loading``) that the AWS provider bindings load only the
resource modules a program uses, and that the bindings' argument type checks work out each
signature's type hints once (``modules.binding_checks``).
"""

from modules.binding_checks import install as _install_binding_checks
from modules.provider_loading import install as _install_provider_loading

_install_provider_loading()
_install_binding_checks()
