"""Your workload code: what the ``workload-<env>`` stacks contain (``workloads/workload.hcl`` names the entry point)."""
