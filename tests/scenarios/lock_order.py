"""Scenarios of tests/test_lock_order.py: a raw UDP SIP endpoint on loopback drives one
lock interleaving over and over, and a watchdog ends the process with every thread's
stacks if a round stops finishing. Each scenario's argument is how many seconds it keeps
trying."""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from pjsua_ffi._pjsua import ffi
from pjsua_ffi._pjsua import lib as C  # noqa: N812

import pjsua_ffi as pj
from tests.scenarios import main
from tests.support import (
    LOOPBACK,
    AnsweringAccount,
    CallLog,
    Events,
    Watchdog,
    report,
    ua_account,
    ua_lib,
    uri_of,
    wait_for,
)


def _slots_in_use() -> str:
    """pjsua's own view of its call slots: how many, and each one's state."""
    ids = ffi.new("pjsua_call_id[]", 64)
    count = ffi.new("unsigned *", 64)
    C.pjsua_enum_calls(ids, count)
    info = ffi.new("pjsua_call_info *")
    states = []
    for i in range(count[0]):
        st = C.pjsua_call_get_info(ids[i], info)
        states.append((ids[i], info.state, info.role) if st == 0 else (ids[i], "?", st))
    return f"pjsua counts {C.pjsua_call_get_count()} calls: (id, state, role) {states}"


def calls_gone(dog: Watchdog, answered: Callable[[], int], limit: float) -> float:
    """Wait until pjsua holds no call, at most ``limit`` seconds. A BYE may wait for
    its resends longer than the round watchdog allows: the watchdog is kicked while
    ``answered()`` (the flood's answers so far) grows, i.e. while pjsua is alive.
    Returns how long it waited."""
    start = time.monotonic()
    end = start + limit
    seen = answered()
    while C.pjsua_call_get_count() > 0:
        if time.monotonic() > end:
            raise AssertionError(f"calls still held after {limit} s: {_slots_in_use()}")
        time.sleep(0.005)
        now = answered()
        if now != seen:
            seen = now
            dog.kick()
    return time.monotonic() - start


def round_watchdog() -> Watchdog:
    return Watchdog(10.0, "round finished")


def raw_socket() -> Tuple[socket.socket, int]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((LOOPBACK, 0))
    s.settimeout(0.05)
    return s, s.getsockname()[1]


def parse(data: bytes) -> Tuple[str, Dict[str, str]]:
    head = data.decode("utf-8", "replace").split("\r\n\r\n", 1)[0].split("\r\n")
    hdrs: Dict[str, str] = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        hdrs.setdefault(name.strip().lower(), value.strip())
    return head[0], hdrs


def tag_of(value: str) -> str:
    return value.split(";tag=", 1)[1].split(";")[0].split(">")[0]


def udp_drops(port: int) -> Optional[int]:
    """Datagrams the kernel dropped for the UDP socket on 127.0.0.1:port (a full
    buffer)."""
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == f"0100007F:{port:04X}":
                return int(fields[-1])
    return None


def hangup_vs_replaces(seconds: str) -> None:
    """Thread 1 (the main thread) hangs up calls; pjsua holds each call's dialog lock
    while it reports DISCONNECTED, and the shim's snapshot then takes PJSUA_LOCK.
    Thread 2 (the poller) keeps receiving INVITEs whose Replaces header names those very
    dialogs: pjsua_call_on_incoming takes PJSUA_LOCK, then the named dialog's lock.
    ";early-only" makes pjsip turn each one down (486) once it has looked at the dialog,
    so the INVITEs change nothing but the locking."""
    duration = float(seconds)
    dog = round_watchdog()
    n_calls = 4
    lib, tps = ua_lib(max_calls=32, transports=("udp", "udp"))
    ev_b = Events()
    a = ua_account(lib, tps[0], "a")
    _b = ua_account(lib, tps[1], "b", cb=AnsweringAccount(ev_b), set_default=False)
    ports = [tp.info().port for tp in tps]
    sock, my_port = raw_socket()
    targets: List[Tuple[int, str, str, str]] = []  # port, Call-ID, local tag, remote tag
    stop = threading.Event()
    codes: Dict[int, int] = {}
    sent = [0]

    def flood() -> None:
        n = 0
        while not stop.is_set():
            for port, cid, local_tag, remote_tag in list(targets):
                n += 1
                msg = (f"INVITE sip:x@{LOOPBACK}:{port} SIP/2.0\r\n"
                       f"Via: SIP/2.0/UDP {LOOPBACK}:{my_port};rport;branch=z9hG4bK-lo-{n}\r\n"
                       "Max-Forwards: 70\r\n"
                       f"From: <sip:x@{LOOPBACK}:{my_port}>;tag=lo{n}\r\n"
                       f"To: <sip:x@{LOOPBACK}:{port}>\r\n"
                       f"Call-ID: lock-order-{n}-{os.getpid()}\r\n"
                       "CSeq: 1 INVITE\r\n"
                       f"Contact: <sip:x@{LOOPBACK}:{my_port}>\r\n"
                       f"Replaces: {cid};to-tag={local_tag};from-tag={remote_tag};early-only\r\n"
                       "Content-Length: 0\r\n\r\n")
                sock.sendto(msg.encode(), (LOOPBACK, port))
                sent[0] += 1
            try:
                sock.settimeout(0 if targets else 0.01)
                while True:
                    first, _ = parse(sock.recv(65536))
                    code = int(first.split()[1])
                    codes[code] = codes.get(code, 0) + 1
            except (BlockingIOError, socket.timeout):
                pass

    flooder = threading.Thread(target=flood, daemon=True)
    flooder.start()
    rounds = 0
    longest = 0.0  # the longest wait for b's ends
    end = time.monotonic() + duration
    while time.monotonic() < end:
        ev_b.items.clear()
        logs = [Events() for _ in range(n_calls)]
        try:
            calls = [a.make_call(uri_of(tps[1], "b"), CallLog(ev)) for ev in logs]
        except pj.Error as exc:
            if exc.err_code != C.PJ_ETOOMANY:
                raise
            # Seen twice in ~360 runs, not understood yet: every slot of max_calls taken.
            raise AssertionError(f"no free call slot after {rounds} rounds: "
                                 f"{_slots_in_use()}; responses so far {codes}") from exc
        for call, ev in zip(calls, logs):
            assert ev.has(("state", "CONFIRMED", 200, "OK"), 10), (
                ev.items, [udp_drops(p) for p in ports], codes)
            call.send_request("OPTIONS")   # b sees both tags of the dialog in it
        assert ev_b.wait(lambda items: sum(e[0] == "request" for e in items) == n_calls, 10)
        for e in list(ev_b.items):
            if e[0] == "request":
                _, h = parse(e[2].encode())
                a_tag, b_tag = tag_of(h["from"]), tag_of(h["to"])
                targets.append((ports[0], h["call-id"], a_tag, b_tag))
                targets.append((ports[1], h["call-id"], b_tag, a_tag))
        time.sleep(0.002)
        lib.hangup_all()
        for ev in logs:
            assert ev.wait(
                lambda items: any(e[:2] == ("state", "DISCONNECTED") for e in items), 10)
        # b's ends too: the flood overflows the UAs' sockets, and a call whose BYE (or
        # its answer) was dropped keeps its slot until a resend gets through, up to
        # 32 s (timer F). Rounds that went on meanwhile filled all 32 slots now and
        # then: the next call got 486 from b, or PJ_ETOOMANY.
        longest = max(longest, calls_gone(dog, lambda: sum(codes.values()), 40.0))
        targets[:] = []
        rounds += 1
        dog.kick()
    stop.set()
    flooder.join()
    dog.stop()
    report(rounds=rounds, sent=sent[0], codes=codes, calls=rounds * n_calls,
           longest_end=round(longest, 3), drops=[udp_drops(p) for p in ports])
    lib.destroy()


class Watchers:
    """Raw watchers of account "x" at ``port``: each SUBSCRIBE opens a dialog; NOTIFYs
    are answered and the terminated ones recorded; ``request(cid, 2, 0)`` un-SUBSCRIBEs
    inside that dialog. Like any SIP client on UDP, a watcher sends a request again
    until it is answered (RFC 3261 timer E): the bursts overflow the account's socket
    now and then."""

    COUNT = 40

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock, self.my_port = raw_socket()
        self.subs: Dict[str, Tuple[str, Optional[str]]] = {}  # Call-ID -> our, its tag
        self.terminated: Set[str] = set()
        self.unsub_answers: Dict[int, int] = {}
        self.sub_answers: Dict[int, int] = {}
        # (Call-ID, CSeq) -> [request, when to send it again, interval]
        self.unanswered: Dict[Tuple[str, int], List[Any]] = {}
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.n = 0
        self.receiver = threading.Thread(target=self.receive, daemon=True)
        self.receiver.start()

    def send(self, text: str) -> None:
        self.sock.sendto(text.encode(), (LOOPBACK, self.port))

    def resend_due(self) -> None:
        now = time.monotonic()
        with self.lock:
            due = [r for r in self.unanswered.values() if r[1] <= now]
            for r in due:
                r[2] = min(2 * r[2], 4.0)
                r[1] = now + r[2]
        for r in due:
            self.send(r[0])

    def receive(self) -> None:
        while not self.stop.is_set():
            self.resend_due()
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            first, h = parse(data)
            cid = h.get("call-id", "")
            if first.startswith("SIP/2.0"):
                code = int(first.split()[1])
                cseq = int(h.get("cseq", "0 x").split()[0])
                with self.lock:
                    if code < 200 or self.unanswered.pop((cid, cseq), None) is None:
                        continue   # provisional, or the answer to a request sent again
                    answers = self.sub_answers if cseq == 1 else self.unsub_answers
                    answers[code] = answers.get(code, 0) + 1
                    if cseq == 1 and 200 <= code < 300:
                        self.subs[cid] = (self.subs[cid][0], tag_of(h["to"]))
            elif first.startswith("NOTIFY"):
                self.send("SIP/2.0 200 OK\r\n" + "".join(
                    f"{k}: {h[k.lower()]}\r\n" for k in ("Via", "From", "To", "Call-ID", "CSeq"))
                    + "Content-Length: 0\r\n\r\n")
                if h.get("subscription-state", "").startswith("terminated"):
                    with self.lock:
                        self.terminated.add(cid)

    def request(self, cid: str, cseq: int, expires: int) -> None:
        our_tag, acc_tag = self.subs[cid]
        to_tag = f";tag={acc_tag}" if acc_tag else ""
        port, my_port = self.port, self.my_port
        text = (f"SUBSCRIBE sip:x@{LOOPBACK}:{port} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {LOOPBACK}:{my_port};rport;branch=z9hG4bK-{cid}-{cseq}\r\n"
                "Max-Forwards: 70\r\n"
                f"From: <sip:w-{our_tag}@{LOOPBACK}:{my_port}>;tag={our_tag}\r\n"
                f"To: <sip:x@{LOOPBACK}:{port}>{to_tag}\r\n"
                f"Call-ID: {cid}\r\n"
                f"CSeq: {cseq} SUBSCRIBE\r\n"
                f"Contact: <sip:w-{our_tag}@{LOOPBACK}:{my_port}>\r\n"
                "Event: presence\r\nAccept: application/pidf+xml\r\n"
                f"Expires: {expires}\r\nContent-Length: 0\r\n\r\n")
        with self.lock:
            self.unanswered[(cid, cseq)] = [text, time.monotonic() + 0.5, 0.5]
        self.send(text)

    def subscribe_all(self) -> List[str]:
        batch = []
        for _ in range(self.COUNT):
            self.n += 1
            cid = f"lock-order-{self.n}-{os.getpid()}"
            with self.lock:
                self.subs[cid] = (f"w{self.n}", None)
            batch.append(cid)
            self.request(cid, 1, 600)
        if not wait_for(lambda: all(self.subs[c][1] for c in batch), 10):
            missing = [c for c in batch if not self.subs[c][1]]
            raise AssertionError(
                f"{len(missing)} SUBSCRIBEs got no 2xx; answers {self.sub_answers}; "
                f"datagrams dropped: to the account {udp_drops(self.port)}, "
                f"to the watchers {udp_drops(self.my_port)}; {missing[:3]}")
        return batch

    def at_once(self, action: Callable[[], Any], batch: List[str]) -> None:
        """The watchers un-SUBSCRIBE while this thread runs action()."""
        go = threading.Barrier(2)

        def unsubscribe() -> None:
            go.wait()
            for cid in batch:
                self.request(cid, 2, 0)

        t = threading.Thread(target=unsubscribe)
        t.start()
        go.wait()
        action()
        t.join()
        # Each watcher heard that its subscription ended, and its un-SUBSCRIBE was answered.
        assert wait_for(lambda: self.terminated.issuperset(batch), 10), "a watcher heard no end"
        assert wait_for(lambda: sum(self.unsub_answers.values()) == self.n, 10), \
            self.unsub_answers

    def finish(self) -> None:
        self.stop.set()
        self.receiver.join()


def acc_del_vs_unsubscribe(seconds: str) -> None:
    """Thread 1 deletes an account that has watchers: pjsua_acc_del holds PJSUA_LOCK and
    sends each watcher a final NOTIFY, which takes that subscription's dialog lock.
    Thread 2 (the poller) receives the watchers' un-SUBSCRIBEs at the same moment: it
    holds a subscription's dialog lock and pjsua's state callback then takes
    PJSUA_LOCK."""
    duration = float(seconds)
    dog = round_watchdog()
    lib, (tp,) = ua_lib()
    w = Watchers(tp.info().port)
    rounds = 0
    end = time.monotonic() + duration
    while time.monotonic() < end:
        acc = ua_account(lib, tp, "x")
        w.at_once(acc.delete, w.subscribe_all())
        rounds += 1
        dog.kick()
    w.finish()
    dog.stop()
    report(rounds=rounds, watchers=w.n, unsub_answers=w.unsub_answers)
    lib.destroy()


def notify_vs_unsubscribe(seconds: str) -> None:
    """The same with Account.pres_notify: the shim looked the watcher up under
    PJSUA_LOCK and pjsua_pres_notify then took its dialog lock, while the poller held
    that dialog (an un-SUBSCRIBE) and waited for PJSUA_LOCK."""
    duration = float(seconds)
    dog = round_watchdog()
    lib, (tp,) = ua_lib()
    w = Watchers(tp.info().port)
    egone = C.PJ_EGONE

    class Watched(pj.AccountCallback):
        def __init__(self) -> None:
            super().__init__()
            self.watchers: List[Any] = []

        def on_incoming_subscribe(self, buddy: Any, from_uri: str, contact_uri: str,
                                  pres_obj: Any) -> Tuple[int, str]:
            self.watchers.append(pres_obj)
            return 200, ""

    cb = Watched()
    acc = ua_account(lib, tp, "x", cb=cb)
    outcomes = {"sent": 0, "ended": 0}

    def notify_all() -> None:
        for watcher in list(cb.watchers):
            try:
                acc.pres_notify(watcher, pj.SubscriptionState.ACTIVE)
                outcomes["sent"] += 1
            except pj.Error as exc:
                assert exc.err_code == egone, exc
                outcomes["ended"] += 1

    def notify_thrice() -> None:
        for _ in range(3):
            notify_all()

    rounds = 0
    end = time.monotonic() + duration
    while time.monotonic() < end:
        cb.watchers.clear()
        batch = w.subscribe_all()
        assert wait_for(lambda: len(cb.watchers) == Watchers.COUNT, 10)
        w.at_once(notify_thrice, batch)
        assert not any(watcher.is_valid() for watcher in cb.watchers)
        rounds += 1
        dog.kick()
    w.finish()
    dog.stop()
    report(rounds=rounds, watchers=w.n, unsub_answers=w.unsub_answers, **outcomes)
    lib.destroy()


if __name__ == "__main__":
    main(globals())
