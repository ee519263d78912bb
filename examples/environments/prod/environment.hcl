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

# How an admin applies bootstrap-prod (README, "Bootstrap a workload account"): this is an AWS
# Organizations member, so an admin of the management account assumes the account's
# OrganizationAccountAccessRole, and the DevOps account's one for the state bucket.
bootstrap {
  role_arn       = "arn:aws:iam::444444444444:role/OrganizationAccountAccessRole"
  state_role_arn = "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole"
}

tags = {
  cost-center = "prod"
  criticality = "high"
}

# Values for the workload's inputs (workloads/workload.hcl); unset inputs keep their defaults.
inputs = {
  data_noncurrent_version_days = 365
}

# After the apply, the sample workload's post-deploy check (README, "Your infrastructure"): its data
# bucket exists, is KMS-encrypted and versioned. It reads the account through the read-only plan role;
# a failure stops the release before the next environment.
step "bucket-check" {
  when     = "after-apply"
  commands = ["python3 -m pip install --quiet boto3", "python3 workloads/checks/data_bucket.py"]
}
