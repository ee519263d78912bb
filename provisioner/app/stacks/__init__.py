"""The product's stacks: ``devops``, ``bootstrap-<env>`` and ``workload-<env>``."""
