"""Configuration: ``environments/`` parsed and checked, the names derived from it, the quotas it must fit, where it deploys."""
