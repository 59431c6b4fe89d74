"""A real kamailio SIP registrar, proxy and presence server for tests.

The server listens on 127.0.0.1 only (UDP and TCP on one port picked at
start), keeps its users in db_text files inside a work directory and runs
as a child process of the test, stopped by pid.  Needs the Debian packages
``kamailio`` and ``kamailio-presence-modules``.

Typical use::

    with Kamailio(tmp_path, users={"alice": "secret"}) as kam:
        registrar = f"sip:{kam.host}:{kam.port}"
        ...
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import hashlib
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time
import uuid
from types import TracebackType

TEMPLATE = pathlib.Path(__file__).with_name("kamailio.cfg")
SCHEMA_DIR = pathlib.Path("/usr/share/kamailio/dbtext/kamailio")
_BASE_TABLES = ("version", "subscriber", "location")
_PRESENCE_TABLES = ("presentity", "active_watchers", "watchers", "xcap")
_STOP_GRACE = 5.0


def _free_port(host: str) -> int:
    """Return a port that is free for both UDP and TCP on ``host``."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((host, port))
                except OSError:
                    continue
        return port
    raise RuntimeError("no port free for both UDP and TCP")


def _dbtext_escape(value: str) -> str:
    """Escape a string for one field of a db_text table row."""
    out = []
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == ":":
            out.append("\\:")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\0":
            out.append("\\0")
        else:
            out.append(ch)
    return "".join(out)


def _md5(text: str) -> str:
    """Hex MD5 digest of a string, as used by SIP digest auth."""
    return hashlib.md5(text.encode()).hexdigest()


def _module_dir() -> str | None:
    """Find the directory holding kamailio's modules, if it is a usual one."""
    for pattern in (
        "/usr/lib/*/kamailio/modules",
        "/usr/lib/kamailio/modules",
        "/usr/lib64/kamailio/modules",
        "/usr/local/lib*/kamailio/modules",
    ):
        for path in sorted(glob.glob(pattern)):
            if os.path.isfile(os.path.join(path, "tm.so")):
                return path + "/"
    return None


class Kamailio:
    """One kamailio process serving a SIP domain on 127.0.0.1.

    ``port`` is valid after :meth:`start`. REGISTER needs digest auth with
    a user from ``users`` (wrong password: 403); requests to a user of the
    domain go to its registered contacts (unknown or unregistered: 404).
    With ``presence`` the server itself handles PUBLISH and SUBSCRIBE;
    without it those are relayed to the user like any other request.
    """

    host: str = "127.0.0.1"

    def __init__(
        self,
        workdir: pathlib.Path,
        users: dict[str, str] | None = None,
        domain: str = "127.0.0.1",
        presence: bool = True,
        tls_cert: str = "",
        tls_key: str = "",
    ) -> None:
        self.workdir = pathlib.Path(workdir).resolve()
        self.domain = domain
        self.presence = presence
        self.port = 0
        # With a certificate and (unencrypted) key, also TLS on ``tls_port``
        # (needs the kamailio-tls-modules package).
        self.tls_cert, self.tls_key = tls_cert, tls_key
        self.tls_port = 0
        self.users: dict[str, str] = dict(users or {})
        self.cfg_path = self.workdir / "kamailio.cfg"
        self.db_dir = self.workdir / "db"
        self.run_dir = self.workdir / "run"
        self.pid_path = self.workdir / "kamailio.pid"
        self.log_path = self.workdir / "kamailio.log"
        self._proc: subprocess.Popen[bytes] | None = None

    # -- public API ------------------------------------------------------

    @property
    def uri(self) -> str:
        """SIP URI of the server itself, usable as registrar or proxy."""
        return f"sip:{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> Kamailio:
        """Write config and tables, launch kamailio and wait until it answers."""
        if self._proc is not None:
            raise RuntimeError("kamailio already started")
        if shutil.which("kamailio") is None:
            raise RuntimeError(
                "kamailio not installed (apt-get install kamailio kamailio-presence-modules)"
            )
        deadline = time.monotonic() + timeout
        last_error = ""
        for _ in range(3):  # a port can be taken between probe and bind
            self.port = _free_port(self.host)
            self._write_files()
            self._launch()
            try:
                self._wait_ready(deadline)
                return self
            except RuntimeError as exc:
                last_error = str(exc)
                exited = self._proc is not None and self._exited(self._proc.pid, 0)
                self.stop()
                if not exited or "bind" not in self.log_text().lower():
                    break
                if time.monotonic() >= deadline:
                    break
        raise RuntimeError(last_error)

    def add_user(self, username: str, password: str) -> None:
        """Add a subscriber (or change a password); live without a restart."""
        self.users[username] = password
        if self._proc is not None:
            self._write_subscribers()

    def stop(self) -> None:
        """Stop the server: SIGTERM, then SIGKILL after a grace period."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        atexit.unregister(self.stop)
        if proc.returncode is None:
            if not self._exited(proc.pid, 0):
                os.kill(proc.pid, signal.SIGTERM)
            if not self._exited(proc.pid, _STOP_GRACE):
                os.kill(proc.pid, signal.SIGKILL)
                self._exited(proc.pid, _STOP_GRACE)
            # Workers can outlive the main process; its zombie still holds
            # the group id, so this reaches only processes we started.
            self._kill_group(proc.pid)
        proc.wait()

    def log_text(self) -> str:
        """Everything kamailio has logged so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def __enter__(self) -> Kamailio:
        if self._proc is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- internals -------------------------------------------------------

    def _write_subscribers(self) -> None:
        """Rewrite the subscriber table so a running kamailio reloads it."""
        path = self.db_dir / "subscriber"
        header = (SCHEMA_DIR / "subscriber").read_text(encoding="utf-8").splitlines()[0]
        lines = [header]
        for row_id, (user, password) in enumerate(self.users.items(), 1):
            ha1 = _md5(f"{user}:{self.domain}:{password}")
            ha1b = _md5(f"{user}@{self.domain}:{self.domain}:{password}")
            fields = [str(row_id), user, self.domain, password, ha1, ha1b]
            lines.append(":".join(_dbtext_escape(v) for v in fields))
        try:
            before: float | None = os.stat(path).st_mtime
        except FileNotFoundError:
            before = None
        tmp = path.with_name("subscriber.tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(tmp, path)  # readers never see a half-written table
        if before is not None:
            # db_text reloads a table only when its mtime, in whole seconds,
            # grew since it was loaded: make sure it does.
            stamp = max(int(before) + 1, int(time.time()))
            os.utime(path, (stamp, stamp))

    def _write_files(self) -> None:
        """Create the db_text tables and the config in the work directory."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.db_dir.exists():
            shutil.rmtree(self.db_dir)
        self.db_dir.mkdir()
        self.run_dir.mkdir(exist_ok=True)
        tables = _BASE_TABLES + (_PRESENCE_TABLES if self.presence else ())
        for table in tables:
            src = SCHEMA_DIR / table
            if not src.is_file():
                raise RuntimeError(f"missing db_text schema {src}")
            if table == "subscriber":
                self._write_subscribers()
            else:
                shutil.copyfile(src, self.db_dir / table)

        text = TEMPLATE.read_text(encoding="utf-8")
        mpath = _module_dir()
        tls_cfg = self.workdir / "tls.cfg"
        if self.tls_cert:
            self.tls_port = _free_port(self.host)
            tls_cfg.write_text(
                "[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\n"
                f"require_certificate = no\ncertificate = {self.tls_cert}\n"
                f"private_key = {self.tls_key}\n\n[client:default]\n"
                "verify_certificate = no\nrequire_certificate = no\n", encoding="utf-8")
        for key, value in {
            "PORT": str(self.port),
            "TLSPORT": str(self.tls_port),
            "TLSCFG": str(tls_cfg),
            "DOMAIN": self.domain,
            "DBDIR": str(self.db_dir),
            "MPATH": mpath or "",
        }.items():
            text = text.replace(f"@{key}@", value)
        if mpath is None:  # fall back to kamailio's built-in module path
            text = "\n".join(line for line in text.splitlines() if not line.startswith("mpath="))
        defines = "#!define WITH_PRESENCE\n" if self.presence else ""
        if self.tls_cert:
            defines += "#!define WITH_TLS\n"
        first, _, rest = text.partition("\n")
        self.cfg_path.write_text(f"{first}\n{defines}{rest}", encoding="utf-8")

    def _launch(self) -> None:
        """Start kamailio in the foreground as our child, in its own group."""
        self.pid_path.unlink(missing_ok=True)
        cmd = [
            "kamailio",
            "-f",
            str(self.cfg_path),
            "-P",
            str(self.pid_path),
            "-Y",
            str(self.run_dir),
            "-DD",
            "-E",
            "-m",
            "32",
            "-M",
            "4",
        ]
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                cmd,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        atexit.register(self.stop)

    def _wait_ready(self, deadline: float) -> None:
        """Probe with OPTIONS over UDP until any SIP response comes back."""
        assert self._proc is not None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((self.host, 0))
            sock.settimeout(0.1)
            lport = sock.getsockname()[1]
            while True:
                if self._exited(self._proc.pid, 0):
                    self._fail("kamailio exited during start")
                if time.monotonic() >= deadline:
                    self._fail("kamailio did not answer OPTIONS in time")
                sock.sendto(self._options(lport), (self.host, self.port))
                try:
                    data = sock.recv(65535)
                except (socket.timeout, ConnectionRefusedError):
                    continue
                if data.startswith(b"SIP/2.0 "):
                    return

    def _options(self, lport: int) -> bytes:
        """Build a minimal OPTIONS request addressed to the server itself."""
        tag = uuid.uuid4().hex[:10]
        return (
            f"OPTIONS sip:{self.host}:{self.port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {self.host}:{lport};rport;branch=z9hG4bK{tag}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:probe@{self.host}>;tag={tag}\r\n"
            f"To: <sip:{self.host}:{self.port}>\r\n"
            f"Call-ID: {tag}@{self.host}\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()

    def _fail(self, why: str) -> None:
        """Raise RuntimeError with the end of kamailio's log."""
        tail = "\n".join(self.log_text().splitlines()[-40:])
        raise RuntimeError(f"{why} (port {self.port}); log tail:\n{tail}")

    @staticmethod
    def _exited(pid: int, timeout: float) -> bool:
        """Wait for ``pid`` to exit without reaping it; True if it did."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return True  # already reaped
            if info is not None:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    @staticmethod
    def _kill_group(pgid: int) -> None:
        """SIGKILL what is left of the process group we created."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
