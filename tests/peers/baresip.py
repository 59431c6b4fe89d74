"""A real baresip user agent for tests, driven over its ctrl_tcp module.

baresip runs headless on 127.0.0.1 as a child process (stopped by pid): its
microphone is a WAV file played in a loop (aufile), its speaker a dummy (aubridge),
and the sndfile module writes what it receives (``dump-*-dec.wav``) and sends
(``dump-*-enc.wav``) into the work directory. Commands are netstring-framed JSON
(``{"command": ..., "params": ..., "token": ...}``); events (``CALL_ESTABLISHED``,
``CALL_CLOSED``, ``CALL_DTMF_START`` …) arrive on the same connection and are kept
in :attr:`Baresip.events`.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from tests.peers import end_process
from tests.support import free_port

MODULES = Path("/usr/lib/baresip/modules")


class Baresip:
    """One baresip process with one account ``sip:user@127.0.0.1:port``."""

    def __init__(self, workdir: Path, mic_wav: Path, user: str = "bs",
                 registrar: str = "", password: str = "") -> None:
        """With ``registrar`` (``host:port``) the account registers there with
        ``password`` and sends every request through it."""
        self.dir = Path(workdir)
        self.mic = Path(mic_wav)
        self.user = user
        self.registrar, self.password = registrar, password
        self.port = 0
        self.ctrl_port = 0
        self.events: List[Dict[str, Any]] = []
        self.responses: List[Dict[str, Any]] = []
        self._cv = threading.Condition()
        self._proc: Optional[subprocess.Popen] = None
        self._sock: Optional[socket.socket] = None
        self._token = 0

    @property
    def uri(self) -> str:
        return f"sip:{self.user}@127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> "Baresip":
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port, self.ctrl_port = free_port(), free_port()
        modules = ["g711", "aufile", "aubridge", "sndfile", "ctrl_tcp", "menu"]
        (self.dir / "config").write_text("\n".join([
            "poll_method epoll",
            f"sip_listen 127.0.0.1:{self.port}",
            "net_interface 127.0.0.1",
            f"audio_source aufile,{self.mic}",
            "audio_player aubridge,nil",
            "audio_alert aubridge,nil",
            "audio_srate 8000",
            "rtp_ports 30000-39999",
            f"module_path {MODULES}",
            *[f"module {m}.so" for m in modules],
            f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}",
            f"snd_path {self.dir}",
            "",
        ]))
        (self.dir / "accounts").write_text("")
        self._log = open(self.dir / "baresip.log", "wb")
        self._proc = subprocess.Popen(["baresip", "-f", str(self.dir)], stdin=subprocess.DEVNULL,
                                      stdout=self._log, stderr=subprocess.STDOUT,
                                      cwd=str(self.dir), start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._sock = socket.create_connection(("127.0.0.1", self.ctrl_port), 1)
                break
            except OSError:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("baresip did not start:\n" + self.log_text()) from None
                time.sleep(0.05)
        self._sock.settimeout(None)
        threading.Thread(target=self._read, daemon=True).start()
        # An account added after we are connected, so its events reach us.
        common = "answermode=auto;audio_codecs=PCMU"
        if self.registrar:
            self.command("uanew", f"<sip:{self.user}@{self.registrar}>;{common};"
                         f"auth_pass={self.password};regint=300;"
                         f'outbound="sip:{self.registrar}"')
        else:
            self.command("uanew", f"<{self.uri}>;{common};regint=0")
        return self

    def _read(self) -> None:
        buf = b""
        sock = self._sock
        assert sock is not None
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            buf += data
            while b":" in buf:
                head, rest = buf.split(b":", 1)
                n = int(head)
                if len(rest) < n + 1:
                    break
                msg = json.loads(rest[:n])
                buf = rest[n + 1:]  # the netstring's trailing comma
                with self._cv:
                    (self.events if msg.get("event") else self.responses).append(msg)
                    self._cv.notify_all()

    def command(self, cmd: str, params: str = "", timeout: float = 5.0) -> Dict[str, Any]:
        """Send a command; return baresip's response (``ok``, ``data``)."""
        self._token += 1
        token = str(self._token)
        body = json.dumps({"command": cmd, "params": params, "token": token}).encode()
        assert self._sock is not None
        self._sock.sendall(str(len(body)).encode() + b":" + body + b",")
        with self._cv:
            if not self._cv.wait_for(lambda: any(r.get("token") == token
                                                 for r in self.responses), timeout):
                raise AssertionError(f"baresip did not answer {cmd!r}")
            return next(r for r in self.responses if r.get("token") == token)

    def wait_event(self, pred: Callable[[Dict[str, Any]], Any],
                   timeout: float = 10.0) -> Dict[str, Any]:
        """The first event matching ``pred``; AssertionError if none comes in time."""
        with self._cv:
            if not self._cv.wait_for(lambda: any(pred(e) for e in self.events), timeout):
                raise AssertionError(f"no such baresip event; got {self.events!r}")
            return next(e for e in self.events if pred(e))

    def event_types(self) -> List[str]:
        with self._cv:
            return [e.get("type", "") for e in self.events]

    def recordings(self, kind: str = "dec") -> List[Path]:
        """The WAV files sndfile wrote: ``dec`` what baresip heard, ``enc`` what it sent."""
        return sorted(self.dir.glob(f"dump-*-{kind}.wav"))

    def log_text(self) -> str:
        try:
            return (self.dir / "baresip.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None
        if proc is None:
            return
        end_process(proc)
        self._log.close()

    def __enter__(self) -> "Baresip":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
