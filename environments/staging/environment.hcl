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

# After the apply, the sample workload's post-deploy check (README, "Your infrastructure"): its data
# bucket exists, is KMS-encrypted and versioned. It reads the account through the read-only plan role;
# a failure stops the release before the next environment.
step "bucket-check" {
  when     = "after-apply"
  commands = ["python3 -m pip install --quiet boto3", "python3 workloads/checks/data_bucket.py"]
}
