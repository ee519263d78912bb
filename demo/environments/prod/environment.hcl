# Workload environment "prod" of `make demo`: deploys after dev and needs an approval (the demo
# grants it automatically, and says so).
account_id        = "444444444444"
region            = "eu-west-1"
order             = 2
requires_approval = true

deployment_role {
  external_id = "demo-prod"
}
