"""The sample workload, stopping synthesis mid-way: where the interrupted-synth tests send their signal.

``define`` declares the sample, then, when ``STALLED_MARKER`` names a file, writes it (the CDK app and the
provider bindings are loaded, the first workload stack is half built, the scratch output is in use) and
waits there for up to a minute. A test that waits for the file signals a synth that is certainly running,
however slow the machine, instead of guessing a moment by the clock.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from examples.workloads.sample import define as define_sample
from modules.framework import Construct
from modules.workload import WorkloadEnvironment

STALLED_MARKER = "PROVISIONER_TEST_STALLED_MARKER"


def define(scope: Construct, environment: WorkloadEnvironment) -> None:
    define_sample(scope, environment)
    marker = os.environ.get(STALLED_MARKER)
    if marker and not Path(marker).exists():
        Path(marker).write_text(str(os.getpid()))
        time.sleep(60)
