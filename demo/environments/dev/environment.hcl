# Workload environment "dev" of `make demo`: deploys first, no approval.
account_id = "222222222222"
region     = "eu-west-1"
order      = 1
