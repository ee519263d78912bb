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

# After the apply, the sample workload's post-deploy check (README, "Your infrastructure"): its data
# bucket exists, is KMS-encrypted and versioned. It reads the account through the read-only plan role;
# a failure stops the release before the next environment.
step "bucket-check" {
  when     = "after-apply"
  commands = ["python3 -m pip install --quiet boto3", "python3 workloads/checks/data_bucket.py"]
}
