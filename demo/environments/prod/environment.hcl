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

# After the apply, the sample workload's post-deploy check (README, "Your infrastructure"): its data
# bucket exists, is KMS-encrypted and versioned. It reads the account through the read-only plan role;
# a failure stops the release before the next environment.
step "bucket-check" {
  when     = "after-apply"
  commands = ["python3 -m pip install --quiet boto3", "python3 workloads/checks/data_bucket.py"]
}
