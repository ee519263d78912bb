# Workload environment "prod" of `make demo`: deploys after dev and needs an approval (the demo
# grants it automatically, and says so).
account_id        = "444444444444"
region            = "eu-west-1"
order             = 2
requires_approval = true

deployment_role {
  external_id = "demo-prod"
}

# The demo applies bootstrap-prod as an Organizations management-account admin would: the provider
# assumes the account's OrganizationAccountAccessRole, the backend the DevOps account's.
bootstrap {
  role_arn       = "arn:aws:iam::444444444444:role/OrganizationAccountAccessRole"
  state_role_arn = "arn:aws:iam::123456789012:role/OrganizationAccountAccessRole"
}
