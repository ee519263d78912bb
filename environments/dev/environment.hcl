# Workload environment "dev". Field reference: README.md, "Environment format".
account_id = "222222222222" # placeholder: the dev workload account
region     = "eu-west-1"
order      = 1

tags = {
  cost-center = "dev"
}
