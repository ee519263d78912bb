"""The CDK for Terraform app: its stacks, the roles they declare, and synthesis."""
