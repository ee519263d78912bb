"""Plan review: summaries of terraform plans and the pull-request comment that shows them."""
