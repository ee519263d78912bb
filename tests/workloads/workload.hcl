# A workload unlike the example (tests/workloads/queue.py).
entry = "tests.workloads.queue:define"

input "visibility_timeout_seconds" {
  type    = number
  default = 60
}

input "queue_tags" {
  type        = map(string)
  default     = {}
  description = "Extra tags on the orders queue"
}
