# The example workload, which the product's tests and docs use. Your own: workloads/workload.hcl.
# Field reference: README.md, "Your infrastructure".

# The function called once per environment inside its workload-<env> stack: define(scope, environment).
entry = "examples.workloads.sample:define"

# Inputs environments may set in environments/<name>/environment.hcl (inputs = { ... }); the code
# reads them as environment.inputs["<name>"]. Every input has a default.
input "data_noncurrent_version_days" {
  type        = number
  default     = 90
  description = "Days the data bucket keeps an object's older versions"
}
