"""A workload whose code needs a package that is not installed: synthesis stops with one line, not a traceback."""

import a_package_nobody_installed  # noqa: F401


def define(scope, environment) -> None:
    raise AssertionError("never reached: the import fails")
