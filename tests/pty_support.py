"""Drive an interactive program through a pseudo-terminal, as a person at a terminal
would: type a line, wait for a line of output that matches. Standard library only."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import time
from typing import Dict, List, Optional, Sequence


class PtyProcess:
    """A child process whose stdin, stdout and stderr are one pseudo-terminal."""

    def __init__(self, argv: Sequence[str], env: Optional[Dict[str, str]] = None,
                 cwd: Optional[str] = None) -> None:
        master, slave = pty.openpty()
        self.proc = subprocess.Popen(list(argv), stdin=slave, stdout=slave, stderr=slave,
                                     env=env, cwd=cwd, start_new_session=True, close_fds=True)
        os.close(slave)
        self._fd = master
        self.output = ""   # everything read so far
        self._pos = 0      # what expect() has consumed

    def send(self, line: str) -> None:
        """Type ``line`` and Enter."""
        os.write(self._fd, (line + "\n").encode())

    def eof(self) -> None:
        """Type Ctrl-D: the end of the program's input."""
        os.write(self._fd, b"\x04")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self._fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not data:
            return False
        self.output += data.decode("utf-8", "replace").replace("\r\n", "\n")
        return True

    def expect(self, pattern: str, timeout: float = 15.0) -> "re.Match[str]":
        """Wait for ``pattern`` (a regular expression) in output not yet consumed; the
        match and everything before it are consumed."""
        rx = re.compile(pattern, re.M)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.output, self._pos)
            if m:
                self._pos = m.end()
                return m
            left = end - time.monotonic()
            if left <= 0 or not self._read(min(left, 0.2)) and self.proc.poll() is not None:
                raise AssertionError(f"no {pattern!r} within {timeout} s; output since "
                                     f"the last match:\n{self.output[self._pos:][-4000:]}")

    def expect_all(self, *patterns: str, timeout: float = 15.0) -> None:
        """Wait for every pattern, in any order (lines from two threads)."""
        start, last = self._pos, self._pos
        for pattern in patterns:
            self._pos = start
            self.expect(pattern, timeout)
            last = max(last, self._pos)
        self._pos = last

    def lines(self) -> List[str]:
        return self.output.splitlines()

    def wait(self, timeout: float = 20.0) -> int:
        """Wait for the process to end (reading its output meanwhile); its exit code."""
        end = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < end:
            self._read(0.1)
        while self._read(0.05) and self.proc.poll() is not None:
            if not select.select([self._fd], [], [], 0)[0]:
                break
        if self.proc.poll() is None:
            raise AssertionError(f"the process did not end within {timeout} s:\n"
                                 f"{self.output[-4000:]}")
        return int(self.proc.returncode)

    def close(self) -> None:
        """Stop the process (by its pid) if it still runs; release the terminal."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            os.close(self._fd)
        except OSError:
            pass

    def __enter__(self) -> "PtyProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
