# Workload environment "staging". Field reference: README.md, "Environment format".
account_id = "333333333333" # placeholder: the staging workload account
region     = "eu-west-1"
order      = 2

# How an admin applies bootstrap-staging (README, "Bootstrap a workload account"): with a named AWS
# profile for the staging account (IAM Identity Center, for instance) and their own DevOps-account
# credentials for the state bucket.
bootstrap {
  profile = "acme-staging-admin"
}
