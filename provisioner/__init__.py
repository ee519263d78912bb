"""The pipeline provisioner: configuration, stacks and command line around ``modules/``."""
