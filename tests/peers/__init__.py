"""Real SIP servers and agents the tests start, each a child process stopped by pid."""

from __future__ import annotations

import os
import signal
import subprocess


def end_process(proc: "subprocess.Popen[bytes]", grace: float = 5.0) -> None:
    """SIGTERM ``proc`` (ours, by pid), then SIGKILL if it is still there after ``grace``."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
