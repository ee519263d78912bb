"""What the pipelines cost: estimates from the configuration, reports from what ran."""
