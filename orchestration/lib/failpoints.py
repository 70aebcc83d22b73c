"""Named points where the fault-injection tests (tests/faults/) kill the running process with a
real SIGKILL, at moments a test could not otherwise hit: USEROPS_FAILPOINT=<name>. Unset, a
failpoint does nothing."""

import os
import signal

VARIABLE = "USEROPS_FAILPOINT"


def reached(name: str) -> None:
    if os.environ.get(VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
