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

# After the apply, the sample workload's post-deploy check (README, "Your infrastructure"): its data
# bucket exists, is KMS-encrypted and versioned. It reads the account through the read-only plan role;
# a failure stops the release before the next environment.
step "bucket-check" {
  when     = "after-apply"
  commands = ["python3 -m pip install --quiet boto3", "python3 workloads/checks/data_bucket.py"]
}
