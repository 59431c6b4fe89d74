"""baresip (Debian's baresip-core) as an independent SIP user agent for tests.

Headless: its microphone is a WAV file (aufile, 8 kHz mono), its speaker a dummy
(aubridge), and the sndfile module writes what it receives to ``*-dec.wav`` in the work
directory. It listens on 127.0.0.1 only, answers calls by itself, can dial at start
(``dial=URI``) and is stopped by pid. See /work/shared/PEERS.md for what matters.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
import wave
from pathlib import Path
from types import TracebackType
from typing import List, Optional

MODULES = "/usr/lib/baresip/modules"


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Baresip:
    """One baresip process; ``uri`` reaches it. Use as a context manager."""

    def __init__(self, workdir: Path, microphone: Optional[Path] = None,
                 dial: str = "", user: str = "bob") -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = _free_udp_port()
        self.uri = f"sip:{user}@127.0.0.1:{self.port}"
        self.recordings = self.workdir / "received"
        self.recordings.mkdir(exist_ok=True)
        if microphone is None:
            microphone = self.workdir / "silence.wav"
            with wave.open(str(microphone), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(8000)
                w.writeframes(b"\0\0" * 8000 * 30)
        (self.workdir / "config").write_text(
            f"poll_method epoll\n"
            f"sip_listen 127.0.0.1:{self.port}\n"
            f"net_interface 127.0.0.1\n"
            f"audio_player aubridge,nil\n"
            f"audio_alert aubridge,nil\n"
            f"audio_source aufile,{microphone}\n"
            f"snd_path {self.recordings}\n"
            f"module_path {MODULES}\n"
            "module g711.so\nmodule aufile.so\nmodule aubridge.so\nmodule sndfile.so\n"
            "module_app account.so\nmodule_app menu.so\n")
        (self.workdir / "accounts").write_text(
            f"<{self.uri}>;answermode=auto;audio_codecs=PCMU;regint=0\n")
        argv = ["baresip", "-f", str(self.workdir)]
        if dial:
            argv += ["-e", f"/dial {dial}"]
        self.log = self.workdir / "baresip.log"
        self._out = open(self.log, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=subprocess.STDOUT)

    def wait_for(self, text: str, timeout: float = 10.0) -> None:
        """Wait until baresip has printed ``text``."""
        end = time.monotonic() + timeout
        while text not in self.log.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > end:
                raise AssertionError(f"baresip never printed {text!r}:\n"
                                     + self.log.read_text(errors="replace")[-3000:])
            time.sleep(0.05)

    def received(self) -> List[Path]:
        """The WAV files of audio it received (one per call)."""
        return sorted(self.recordings.glob("*-dec.wav"))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()

    def __enter__(self) -> "Baresip":
        try:
            self.wait_for("baresip is ready.")
        except BaseException:
            self.close()  # __exit__ will not run
            raise
        return self

    def __exit__(self, exc_type: Optional[type], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.close()
