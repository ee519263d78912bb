# Workload environment "dev". Field reference: README.md, "Environment format".
account_id = "222222222222" # placeholder: the dev workload account
region     = "eu-west-1"
order      = 1

# How an admin applies bootstrap-dev (README, "Bootstrap a workload account"): this is an AWS
# Organizations member, so an admin of the management account assumes the account's
# OrganizationAccountAccessRole, and the DevOps account's one for the state bucket.
bootstrap {
  role_arn       = "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"
  state_role_arn = "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole"
}

tags = {
  cost-center = "dev"
}
