"""A local, multi-account AWS for trying the provisioner without an AWS account.

One moto server on 127.0.0.1 serves the DevOps account and every workload account: plain
credentials act in moto's default account (``DEVOPS_ACCOUNT_ID``, the DevOps account of the demo
configuration), and ``sts:AssumeRole`` into a role of another account returns credentials
that act in that account, which is how the stacks reach workload accounts on real AWS too.

- ``server``: start, stop and inspect the emulator process (``provisioner local-aws``).
- ``launcher``: the emulator process itself (moto plus ``compat``).
- ``compat``: where moto answers differently from AWS for the calls terraform makes, fixed.
"""

DEVOPS_ACCOUNT_ID = "123456789012"
"""The account moto acts in for credentials that did not come from ``sts:AssumeRole`` (moto's default).

The credentials to sign with travel in the local ``Target`` (``provisioner.configuration.target``):
the stacks and the AWS calls take them from there, never from this package."""
