"""Run pjproject's own legacy sample programs (``samples/*.py``) on either module.

The samples are Python 2 programs: they are converted at run time (tools/legacy.py:
lib2to3, else fissix) into a temporary folder (never copied into the repository).
``call.py`` is run twice in a network namespace with only a loopback interface
(``unshare -n``): a callee, driven through its menu on standard input, and a caller
given the callee's URI. What both print is returned, with pjsua's own log lines and
volatile values (ports, times) normalised.

Run as a script inside the namespace: ``python legacy_samples.py call SAMPLES_DIR``.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
from tools.legacy import convert_py2, samples_source  # noqa: E402

SAMPLES = samples_source()
_LOG_LINE = re.compile(r"^\s*\d\d:\d\d:\d\d\.\d{3}\s")


def convert(name: str, out_dir: Path) -> Path:
    """``samples/<name>.py`` converted to Python 3 (print and except only need it)."""
    dst = out_dir / f"{name}.py"
    dst.write_text(convert_py2((SAMPLES / f"{name}.py").read_text(), name))
    return dst


# Whole lines from callback threads: a sample prints a line in several print() calls,
# from its main thread and from callbacks, so lines could tear into each other. Each
# print() is one write; the main thread writes as it prints (its prompts end without a
# newline, and in the legacy module callbacks raised inside its calls run on it); other
# threads write whole lines.
_LINE_ATOMIC = """
import builtins, io, sys, threading
_print = builtins.print
def _one_write(*args, sep=" ", end="\\n", file=None, flush=False):
    out = io.StringIO()  # print() writes its pieces one by one: here in one go
    _print(*args, sep=sep, end=end, file=out)
    (sys.stdout if file is None else file).write(out.getvalue())
builtins.print = _one_write
class _Lines:
    def __init__(self, out):
        self._out, self._tls, self._lock = out, threading.local(), threading.Lock()
    def write(self, text):
        if threading.current_thread() is threading.main_thread():
            with self._lock:
                self._out.write(text)
                self._out.flush()
            return len(text)
        lines = (getattr(self._tls, "buf", "") + text).split("\\n")
        self._tls.buf = lines.pop()
        if lines:
            with self._lock:
                self._out.write("\\n".join(lines) + "\\n")
                self._out.flush()
        return len(text)
    def flush(self):
        self._out.flush()
    def __getattr__(self, name):
        return getattr(self._out, name)
sys.stdout = _Lines(sys.stdout)
"""


def sample_env(work: Path) -> Dict[str, str]:
    """The samples use the default sound device: an ALSA "null" card stands in for it.
    Both modules get the same whole-line output (see _LINE_ATOMIC)."""
    conf = work / "asound.conf"
    conf.write_text("pcm.!default { type null }\nctl.!default { type hw card 0 }\n")
    site = work / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(_LINE_ATOMIC)
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    return dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=path,
                ALSA_CONFIG_PATH=f"/usr/share/alsa/alsa.conf:{conf}")


_SIP_START = re.compile(r"^(SIP/2\.0 \d{3} |[A-Z]+ \S+ SIP/2\.0$)")
_NOISE = ("ALSA lib", "Cannot connect to server", "jack server", "JackShm")


def normalise(text: str) -> List[str]:
    """What the program printed itself: pjsua's log lines (from its log callback: their
    timing, addresses and dumps are pjsip's) and the sound libraries' complaints on
    stderr are dropped, volatile values replaced."""
    lines = []
    in_msg = False  # inside a SIP message that a log line dumps
    for line in text.splitlines():
        bare = line.strip()
        if in_msg:
            in_msg = bare != "--end msg--"
            continue
        if _SIP_START.match(bare):
            in_msg = True
            continue
        if _LOG_LINE.match(line) or line.startswith("  ") or bare.startswith(_NOISE):
            continue  # a log line, the continuation of one, or ALSA/JACK noise
        line = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:P", bare)
        line = re.sub(r"port \d+", "port P", line)
        if line:
            lines.append(line)
    return lines


class Proc:
    """A sample program with its output read as it comes."""

    def __init__(self, argv: List[str], env: Dict[str, str], cwd: str) -> None:
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, env=env, cwd=cwd)
        self.out = b""

    def expect(self, pattern: str, timeout: float = 15.0) -> "re.Match[str]":
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.out.decode("utf-8", "replace"))
            if m:
                return m
            left = end - time.monotonic()
            if left <= 0 or self.p.poll() is not None and not self._more(0):
                raise AssertionError(f"no {pattern!r} in:\n{self.out.decode(errors='replace')}")
            self._more(min(left, 0.5))

    def _more(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.p.stdout], [], [], timeout)
        if ready:
            data = os.read(self.p.stdout.fileno(), 65536)  # type: ignore[union-attr]
            self.out += data
            return bool(data)
        return False

    def send(self, line: str) -> None:
        assert self.p.stdin is not None
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()

    def finish(self, timeout: float = 20.0) -> str:
        try:
            rest, _ = self.p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rest, _ = self.p.communicate()
        self.out += rest or b""
        return self.out.decode("utf-8", "replace") + f"\n[exit {self.p.returncode}]"


def run_call_sample(work: Path) -> Dict[str, List[str]]:
    """callee and caller of samples/call.py; run inside a loopback-only namespace."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    script = convert("call", work)
    env = sample_env(work)
    callee = Proc([sys.executable, str(script)], env, str(work))
    port = callee.expect(r"port (\d+)").group(1)
    callee.expect(r"Menu:")
    caller = Proc([sys.executable, str(script), f"sip:127.0.0.1:{port}"], env, str(work))
    try:
        callee.expect(r"Press 'a' to answer")
        callee.expect(r"is EARLY")  # the sample notes the call only after that prompt
        callee.send("a")
        caller.expect(r"is CONFIRMED")
        callee.expect(r"is CONFIRMED")
        caller.send("h")
        caller.expect(r"is DISCONNECTED")
        callee.expect(r"is DISCONNECTED")
    except AssertionError as exc:
        caller.send("q")
        callee.send("q")
        raise AssertionError(f"{exc}\n--- caller:\n{caller.finish()}\n--- callee:\n"
                             f"{callee.finish()}") from None
    caller.send("q")
    callee.send("q")
    raw = {"caller": caller.finish(), "callee": callee.finish()}
    return {"caller": normalise(raw["caller"]), "callee": normalise(raw["callee"]), "raw": raw}


def run_simplecall_sample(work: Path) -> Dict[str, List[str]]:
    """samples/simplecall.py calls samples/call.py (which answers on its menu)."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    callee_py, caller_py = convert("call", work), convert("simplecall", work)
    env = sample_env(work)
    callee = Proc([sys.executable, str(callee_py)], env, str(work))
    port = callee.expect(r"port (\d+)").group(1)
    callee.expect(r"Menu:")
    caller = Proc([sys.executable, str(caller_py), f"sip:127.0.0.1:{port}"], env, str(work))
    try:
        callee.expect(r"is EARLY")
        callee.send("a")
        caller.expect(r"is  CONFIRMED")
        callee.expect(r"is CONFIRMED")
        caller.send("")  # ENTER: the caller destroys the library, ending the call
        callee.expect(r"is DISCONNECTED")
    except AssertionError as exc:
        callee.send("q")
        raise AssertionError(f"{exc}\n--- caller:\n{caller.finish()}\n--- callee:\n"
                             f"{callee.finish()}") from None
    callee.send("q")
    return {"caller": normalise(caller.finish()), "callee": normalise(callee.finish())}


def run_presence_sample(work: Path) -> Dict[str, List[str]]:
    """Two samples/presence.py: A adds B, B accepts (and adds A), A sends an IM and B
    goes offline."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    script = convert("presence", work)
    env = sample_env(work)
    a = Proc([sys.executable, str(script)], env, str(work))
    a.expect(r"port (\d+)")
    a.expect(r"Menu:")
    b = Proc([sys.executable, str(script)], env, str(work))
    b_port = b.expect(r"port (\d+)").group(1)
    b.expect(r"Menu:")
    try:
        a.send("a")
        a.send(f"sip:127.0.0.1:{b_port}")
        b.expect(r'Press "A" to accept')
        # The sample notes the request only after that prompt: wait until A has the
        # pending NOTIFY that B's answer (202) sends, after the callback returned.
        a.expect(r"is \?[\s\S]*is \?")
        # B accepts and adds A back, under the URI A's SUBSCRIBE came from (a local
        # account's, without its port: that subscription cannot work, in both modules).
        b.send("A")
        a.expect(r"is Online")
        a.send("i")
        a.send("hello from a")
        b.expect(r"hello from a")
        b.send("t")  # B goes offline: A sees it
        a.expect(r"is Offline")
    except AssertionError as exc:
        a.send("q")
        b.send("q")
        raise AssertionError(f"{exc}\n--- a:\n{a.finish()}\n--- b:\n{b.finish()}") from None
    b.send("q")  # B first: A sees its subscription end before it quits too
    out_b = normalise(b.finish())
    a.send("q")
    return {"a": normalise(a.finish()), "b": out_b}


def run_registration_sample(work: Path) -> Dict[str, List[str]]:
    """samples/registration.py registers bennylp at pjsip.org: in a namespace whose
    /etc/hosts (a bind mount, needs ``unshare -n -m``) points pjsip.org at 127.0.0.1,
    where a kamailio serves that domain on port 5060."""
    sys.path.insert(0, str(ROOT))
    from tests.peers import kamailio

    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    hosts = work / "hosts"
    hosts.write_text("127.0.0.1 localhost pjsip.org\n")
    subprocess.run(["mount", "--bind", str(hosts), "/etc/hosts"], check=True)
    kamailio._free_port = lambda host: 5060  # type: ignore[assignment]  (own namespace)
    script = convert("registration", work)
    (work / "kam").mkdir()
    with kamailio.Kamailio(work / "kam", users={"bennylp": "***"}, domain="pjsip.org"):
        proc = Proc([sys.executable, str(script)], sample_env(work), str(work))
        try:
            proc.expect(r"Press ENTER to quit")
        except AssertionError as exc:
            proc.send("")
            raise AssertionError(f"{exc}\n{proc.finish()}") from None
        proc.send("")
        return {"registration": normalise(proc.finish())}


RUNNERS = {"call": run_call_sample, "simplecall": run_simplecall_sample,
           "presence": run_presence_sample, "registration": run_registration_sample}


if __name__ == "__main__":
    import json

    with tempfile.TemporaryDirectory(prefix="pjsua-sample-") as tmp:
        result = RUNNERS[sys.argv[1] if len(sys.argv) > 1 else "call"](Path(tmp))
        print("@@REPORT@@ " + json.dumps(result), flush=True)
