"""A pjsua user agent in its own process, driven step by step by a test.

:class:`Peer` starts a Python process that executes the snippets the test sends it
(``peer.run("...")``) and returns the value each snippet leaves in ``result``; the test
can then act on another peer and come back. Inside the process, :data:`EV` records what
the recording callbacks below see, and :func:`wait_event` waits for a matching record.
Several peers talking to each other is how two independent SIP user agents are tested.
"""

from __future__ import annotations

import functools
import json
import queue
import subprocess
import sys
import tempfile
import textwrap
import threading
from typing import Any, Callable, List, NoReturn, Optional, Tuple

from tests.support import (  # noqa: F401
    ROOT,
    Events,
    abort_with_stacks,
    report,
    scenario_env,
    ua_account,
    uri_of,
    wait_for,
)

_REPLY = "@@PEER@@ "

_SERVER = r'''
import json, sys, textwrap, traceback
ns = {"__name__": "peer"}
exec("from tests.ua_peer import *\nimport pjsua_ffi as pj", ns)
for line in sys.stdin:
    req = json.loads(line)
    ns.pop("result", None)
    try:
        exec(compile(textwrap.dedent(req["code"]), "<peer>", "exec"), ns)
        reply = {"ok": True, "result": ns.get("result")}
    except BaseException:
        reply = {"ok": False, "error": traceback.format_exc()}
    sys.stdout.write("@@PEER@@ " + json.dumps(reply, default=repr) + "\n")
    sys.stdout.flush()
    if req.get("exit"):
        break
'''


class PeerError(AssertionError):
    pass


class Peer:
    """One user-agent process. Use as a context manager; it is stopped by pid."""

    def __init__(self, name: str = "peer", prefix: Tuple[str, ...] = ()) -> None:
        """``prefix`` goes before the command, e.g. ``("ip", "netns", "exec", NS)``."""
        self.name = name
        self._err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([*prefix, sys.executable, "-c", _SERVER],
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._err, text=True,
                                     env=scenario_env(), cwd=str(ROOT))
        self._lines: "queue.Queue[Optional[str]]" = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def run(self, code: str, timeout: float = 20.0, exit: bool = False) -> Any:  # noqa: A002
        """Execute ``code`` in the peer; return its ``result`` (JSON-converted)."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps({"code": textwrap.dedent(code), "exit": exit})
                                  + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._fail("the peer process is gone")
        while True:
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                self._fail(f"no answer within {timeout} s to:\n{code}", hung=True)
            if line is None:
                self._fail("the peer process ended")
            if line.startswith(_REPLY):
                reply = json.loads(line[len(_REPLY):])
                if not reply["ok"]:
                    self._fail(f"snippet failed:\n{code}\n{reply['error']}")
                return reply["result"]

    def _fail(self, why: str, hung: bool = False) -> NoReturn:
        stacks = ""
        if hung and self.proc.poll() is None:
            # Every thread's C stack, then its Python stacks (faulthandler, on stderr).
            stacks = "\n--- C stacks\n" + abort_with_stacks(self.proc)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.poll()
        self._err.seek(0)
        err = self._err.read()[-(30000 if stacks else 6000):]
        raise PeerError(f"{self.name}: {why} (exit code {rc}){stacks}\n--- stderr\n{err}")

    def close(self) -> None:
        """Destroy the library in the peer and stop the process."""
        if self.proc.poll() is None:
            try:
                self.run("lib = globals().get('LIB')\nif lib: lib.destroy()", timeout=15,
                         exit=True)
            except PeerError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._err.close()

    def __enter__(self) -> "Peer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# ---------------------------------------------------------------- peer-process side

EV = Events()


def start(transports: Tuple[str, ...] = ("udp",), **kw: Any) -> Tuple[Any, List[Any]]:
    """Start the library in this peer: ``LIB, tps = start()`` (the peer destroys
    ``LIB`` when it is closed)."""
    from tests.support import ua_lib

    return ua_lib(transports=transports, **kw)


def wait_event(pred: Callable[[Any], Any], timeout: float = 5.0) -> Any:
    """The first record matching ``pred`` (waiting for it); AssertionError if none."""
    found: List[Any] = []

    def check(items: List[Any]) -> bool:
        for item in items:
            if pred(item):
                found.append(item)
                return True
        return False

    if not EV.wait(check, timeout):
        raise AssertionError(f"no matching event; got {EV.items!r}")
    return found[0]


def events(kind: str) -> List[Any]:
    return [e for e in list(EV.items) if e[0] == kind]


def user_of(uri: str) -> str:
    """The user part of a SIP URI, name-addr or not."""
    rest = uri.split("sip:", 1)[-1]
    return rest.split("@", 1)[0] if "@" in rest else ""


@functools.cache
def _recorders() -> Any:
    import pjsua_ffi as pj

    class AccRec(pj.AccountCallback):
        """Records account events; answers SUBSCRIBEs by the watcher's user name."""

        def __init__(self, name: str, answers: Optional[dict] = None) -> None:
            super().__init__()
            self.name = name
            self.answers = answers or {}
            self.watchers: dict = {}

        def on_incoming_subscribe(self, buddy: Any, from_uri: str, contact_uri: str,
                                  pres_obj: Any) -> Any:
            user = user_of(from_uri)
            self.watchers[user] = pres_obj
            answer = self.answers.get(user, (200, ""))
            EV.add(("subscribe", self.name, user, buddy is not None, answer[0]))
            return answer

        def on_watcher_state(self, pres_obj: Any, state: Any) -> None:
            EV.add(("watcher", self.name, user_of(pres_obj.uri), state.name,
                    pres_obj.term_reason))

        def on_pager(self, from_uri: str, contact: str, mime_type: str, body: Any) -> None:
            EV.add(("pager", self.name, user_of(from_uri), mime_type, str(body),
                    body.raw.hex()))

        def on_pager_status(self, to_uri: str, body: Any, im_id: int, code: int,
                            reason: str) -> None:
            EV.add(("pager_status", self.name, user_of(to_uri), str(body), im_id, code,
                    reason))

        def on_typing(self, from_uri: str, contact: str, is_typing: int) -> None:
            EV.add(("typing", self.name, user_of(from_uri), bool(is_typing)))

        def on_mwi_info(self, body: Any) -> None:
            EV.add(("mwi", self.name, str(body), body.content_type))

    class BuddyRec(pj.BuddyCallback):
        """Records buddy events; ``on_state`` records the whole BuddyInfo."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def on_state(self) -> None:
            i = self.buddy.info()
            EV.add(("buddy", self.name, i.online_status, i.online_text, i.activity.name,
                    i.note, i.subscribed, i.sub_state.name, i.sub_state_text,
                    i.sub_term_code, i.sub_term_reason, i.contact))

        def on_pager(self, mime_type: str, body: Any) -> None:
            EV.add(("buddy_pager", self.name, mime_type, str(body), body.raw.hex()))

        def on_pager_status(self, body: Any, im_id: int, code: int, reason: str) -> None:
            EV.add(("buddy_pager_status", self.name, str(body), im_id, code, reason))

        def on_typing(self, is_typing: int) -> None:
            EV.add(("buddy_typing", self.name, bool(is_typing)))

    return AccRec, BuddyRec


def AccRec(*args: Any, **kw: Any) -> Any:  # noqa: N802  (a class factory)
    return _recorders()[0](*args, **kw)


def BuddyRec(*args: Any, **kw: Any) -> Any:  # noqa: N802
    return _recorders()[1](*args, **kw)
