# Workload environment "prod": deploys last and waits for a human to approve the reviewed plan.
# Field reference: README.md, "Environment format".
account_id        = "444444444444" # placeholder: the prod workload account
region            = "eu-west-1"
order             = 3
requires_approval = true

deployment_role {
  managed_policy_arns = ["arn:aws:iam::aws:policy/PowerUserAccess"]
  external_id         = "acme-platform-prod"
}

tags = {
  cost-center = "prod"
  criticality = "high"
}
