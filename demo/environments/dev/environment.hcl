# Workload environment "dev" of `make demo`: deploys first, no approval.
account_id = "222222222222"
region     = "eu-west-1"
order      = 1

# The demo applies bootstrap-dev as an Organizations management-account admin would: the provider
# assumes the account's OrganizationAccountAccessRole, the backend the DevOps account's.
bootstrap {
  role_arn       = "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"
  state_role_arn = "arn:aws:iam::123456789012:role/OrganizationAccountAccessRole"
}
