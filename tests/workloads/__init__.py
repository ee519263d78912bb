"""A workload unlike the example, for proving the product's output does not depend on the team's code."""
