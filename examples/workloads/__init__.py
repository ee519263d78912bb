"""The example workload (the sample the product's tests and docs use)."""
