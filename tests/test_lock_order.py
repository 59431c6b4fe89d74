"""pjsua's lock order: a dialog's lock first, then PJSUA_LOCK. Two paths of pjproject
2.17 took them the other way round and deadlocked against a thread that keeps the rule
(see build_pjsip.py's SOURCE_FIXES), and so did our own pres_notify shim (presence.c).
Each test drives one interleaving on purpose, over and over, from a raw SIP socket, so
that the old code hangs within seconds; a watchdog then prints every thread's C and
Python stack and fails the test at once.

``pytest -k lock_order`` selects all three. ``PJSUA_FFI_LOCK_ORDER_SECONDS`` sets how
long each one keeps trying (default 10).
"""

from __future__ import annotations

import os

from support import run_scenario

SECONDS = float(os.environ.get("PJSUA_FFI_LOCK_ORDER_SECONDS", "10"))

# Shared by both scenarios: a raw UDP SIP endpoint on loopback, and a watchdog that
# ends the process with both stacks if a round stops finishing.
RAW = """
import os, random, socket, sys, threading, time
import pjsua_ffi as pj
from tests.support import *

SECONDS = float(sys.argv[1])
DOG = Watchdog(10.0, "round finished")

def raw_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((LOOPBACK, 0))
    s.settimeout(0.05)
    return s, s.getsockname()[1]

def parse(data):
    head = data.decode("utf-8", "replace").split("\\r\\n\\r\\n", 1)[0].split("\\r\\n")
    hdrs = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        hdrs.setdefault(name.strip().lower(), value.strip())
    return head[0], hdrs

def tag_of(value):
    return value.split(";tag=", 1)[1].split(";")[0].split(">")[0]

def udp_drops(port):
    # Datagrams the kernel dropped for the UDP socket on 127.0.0.1:port (a full buffer).
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == f"0100007F:{port:04X}":
                return int(fields[-1])
    return None
"""

# Thread 1 (the test's main thread) hangs up calls; pjsua holds each call's dialog lock
# while it reports DISCONNECTED, and the shim's snapshot then takes PJSUA_LOCK. Thread 2
# (the poller) keeps receiving INVITEs whose Replaces header names those very dialogs:
# pjsua_call_on_incoming takes PJSUA_LOCK, then the named dialog's lock. ";early-only"
# makes pjsip turn each one down (486) once it has looked at the dialog, so the INVITEs
# change nothing but the locking.
HANGUP_VS_REPLACES = RAW + """
CALLS = 4
lib, tps = ua_lib(max_calls=32, transports=("udp", "udp"))
ev_b = Events()
a = ua_account(lib, tps[0], "a")
b = ua_account(lib, tps[1], "b", cb=AnsweringAccount(ev_b), set_default=False)
ports = [tp.info().port for tp in tps]
sock, my_port = raw_socket()
targets = []     # (port, Call-ID, the dialog's local tag, its remote tag)
stop = threading.Event()
codes = {}
sent = [0]

def flood():
    n = 0
    while not stop.is_set():
        for port, cid, local_tag, remote_tag in list(targets):
            n += 1
            msg = (f"INVITE sip:x@{LOOPBACK}:{port} SIP/2.0\\r\\n"
                   f"Via: SIP/2.0/UDP {LOOPBACK}:{my_port};rport;branch=z9hG4bK-lo-{n}\\r\\n"
                   "Max-Forwards: 70\\r\\n"
                   f"From: <sip:x@{LOOPBACK}:{my_port}>;tag=lo{n}\\r\\n"
                   f"To: <sip:x@{LOOPBACK}:{port}>\\r\\n"
                   f"Call-ID: lock-order-{n}-{os.getpid()}\\r\\n"
                   "CSeq: 1 INVITE\\r\\n"
                   f"Contact: <sip:x@{LOOPBACK}:{my_port}>\\r\\n"
                   f"Replaces: {cid};to-tag={local_tag};from-tag={remote_tag};early-only\\r\\n"
                   "Content-Length: 0\\r\\n\\r\\n")
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
end = time.monotonic() + SECONDS
while time.monotonic() < end:
    ev_b.items.clear()
    logs = [Events() for _ in range(CALLS)]
    calls = [a.make_call(uri_of(tps[1], "b"), CallLog(ev)) for ev in logs]
    for call, ev in zip(calls, logs):
        assert ev.has(("state", "CONFIRMED", 200, "OK"), 10), (
            ev.items, [udp_drops(p) for p in ports], codes)
        call.send_request("OPTIONS")   # b sees both tags of the dialog in it
    assert ev_b.wait(lambda items: sum(e[0] == "request" for e in items) == CALLS, 10)
    for e in list(ev_b.items):
        if e[0] == "request":
            _, h = parse(e[2].encode())
            a_tag, b_tag = tag_of(h["from"]), tag_of(h["to"])
            targets.append((ports[0], h["call-id"], a_tag, b_tag))
            targets.append((ports[1], h["call-id"], b_tag, a_tag))
    time.sleep(0.002)
    lib.hangup_all()
    for ev in logs:
        assert ev.wait(lambda items: any(e[:2] == ("state", "DISCONNECTED") for e in items), 10)
    targets[:] = []
    rounds += 1
    DOG.kick()
stop.set()
flooder.join()
DOG.stop()
report(rounds=rounds, sent=sent[0], codes=codes, calls=rounds * CALLS)
lib.destroy()
"""


def test_lock_order_hangup_while_replaces_arrive() -> None:
    r = run_scenario(HANGUP_VS_REPLACES, str(SECONDS), timeout=SECONDS + 90)
    # Every round's calls came up and went down, and pjsip really looked at the live
    # dialogs the INVITEs named: it turned them down as early-only (486).
    assert r["rounds"] >= 1 and r["sent"] > 0
    codes = {int(k): v for k, v in r["codes"].items()}
    assert codes.get(486, 0) > 0, codes
    assert set(codes) <= {486, 481, 603}, codes


# Raw watchers of account "x": each SUBSCRIBE opens a dialog; NOTIFYs are answered and
# the terminated ones recorded; request(cid, 2, 0) un-SUBSCRIBEs inside that dialog.
# Like any SIP client on UDP, a watcher sends a request again until it is answered
# (RFC 3261 timer E): the bursts overflow the account's socket now and then.
WATCHERS = RAW + """
WATCHERS = 40
lib, (tp,) = ua_lib()
port = tp.info().port
sock, my_port = raw_socket()
subs = {}        # Call-ID -> our tag, the account's tag (once its 2xx came)
terminated = set()
unsub_answers = {}
sub_answers = {}
unanswered = {}  # (Call-ID, CSeq) -> [request, when to send it again, interval]
stop = threading.Event()
lock = threading.Lock()
n = 0

def send(text):
    sock.sendto(text.encode(), (LOOPBACK, port))

def resend_due():
    now = time.monotonic()
    with lock:
        due = [r for r in unanswered.values() if r[1] <= now]
        for r in due:
            r[2] = min(2 * r[2], 4.0)
            r[1] = now + r[2]
    for r in due:
        send(r[0])

def receive():
    while not stop.is_set():
        resend_due()
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        first, h = parse(data)
        cid = h.get("call-id", "")
        if first.startswith("SIP/2.0"):
            code = int(first.split()[1])
            cseq = int(h.get("cseq", "0 x").split()[0])
            with lock:
                if code < 200 or unanswered.pop((cid, cseq), None) is None:
                    continue   # provisional, or the answer to a request sent again
                answers = sub_answers if cseq == 1 else unsub_answers
                answers[code] = answers.get(code, 0) + 1
                if cseq == 1 and 200 <= code < 300:
                    subs[cid] = (subs[cid][0], tag_of(h["to"]))
        elif first.startswith("NOTIFY"):
            send("SIP/2.0 200 OK\\r\\n" + "".join(
                f"{k}: {h[k.lower()]}\\r\\n" for k in ("Via", "From", "To", "Call-ID", "CSeq"))
                + "Content-Length: 0\\r\\n\\r\\n")
            if h.get("subscription-state", "").startswith("terminated"):
                with lock:
                    terminated.add(cid)

def request(cid, cseq, expires):
    our_tag, acc_tag = subs[cid]
    to_tag = f";tag={acc_tag}" if acc_tag else ""
    text = (f"SUBSCRIBE sip:x@{LOOPBACK}:{port} SIP/2.0\\r\\n"
            f"Via: SIP/2.0/UDP {LOOPBACK}:{my_port};rport;branch=z9hG4bK-{cid}-{cseq}\\r\\n"
            "Max-Forwards: 70\\r\\n"
            f"From: <sip:w-{our_tag}@{LOOPBACK}:{my_port}>;tag={our_tag}\\r\\n"
            f"To: <sip:x@{LOOPBACK}:{port}>{to_tag}\\r\\n"
            f"Call-ID: {cid}\\r\\n"
            f"CSeq: {cseq} SUBSCRIBE\\r\\n"
            f"Contact: <sip:w-{our_tag}@{LOOPBACK}:{my_port}>\\r\\n"
            "Event: presence\\r\\nAccept: application/pidf+xml\\r\\n"
            f"Expires: {expires}\\r\\nContent-Length: 0\\r\\n\\r\\n")
    with lock:
        unanswered[(cid, cseq)] = [text, time.monotonic() + 0.5, 0.5]
    send(text)

def subscribe_all():
    global n
    batch = []
    for _ in range(WATCHERS):
        n += 1
        cid = f"lock-order-{n}-{os.getpid()}"
        with lock:
            subs[cid] = (f"w{n}", None)
        batch.append(cid)
        request(cid, 1, 600)
    if not wait_for(lambda: all(subs[c][1] for c in batch), 10):
        missing = [c for c in batch if not subs[c][1]]
        raise AssertionError(f"{len(missing)} SUBSCRIBEs got no 2xx; answers {sub_answers}; "
                             f"datagrams dropped: to the account {udp_drops(port)}, "
                             f"to the watchers {udp_drops(my_port)}; {missing[:3]}")
    return batch

def at_once(action, batch):
    # The watchers un-SUBSCRIBE while this thread runs action().
    go = threading.Barrier(2)

    def unsubscribe():
        go.wait()
        for cid in batch:
            request(cid, 2, 0)

    t = threading.Thread(target=unsubscribe)
    t.start()
    go.wait()
    action()
    t.join()
    # Each watcher heard that its subscription ended, and its un-SUBSCRIBE was answered.
    assert wait_for(lambda: terminated.issuperset(batch), 10), "a watcher heard no end"
    assert wait_for(lambda: sum(unsub_answers.values()) == n, 10), unsub_answers

receiver = threading.Thread(target=receive, daemon=True)
receiver.start()
"""

# Thread 1 deletes an account that has watchers: pjsua_acc_del holds PJSUA_LOCK and
# sends each watcher a final NOTIFY, which takes that subscription's dialog lock. Thread
# 2 (the poller) receives the watchers' un-SUBSCRIBEs at the same moment: it holds a
# subscription's dialog lock and pjsua's state callback then takes PJSUA_LOCK.
ACC_DEL_VS_UNSUBSCRIBE = WATCHERS + """
rounds = 0
end = time.monotonic() + SECONDS
while time.monotonic() < end:
    acc = ua_account(lib, tp, "x")
    at_once(acc.delete, subscribe_all())
    rounds += 1
    DOG.kick()
stop.set()
receiver.join()
DOG.stop()
report(rounds=rounds, watchers=n, unsub_answers=unsub_answers)
lib.destroy()
"""


def test_lock_order_account_deleted_while_watchers_unsubscribe() -> None:
    r = run_scenario(ACC_DEL_VS_UNSUBSCRIBE, str(SECONDS), timeout=SECONDS + 90)
    assert r["rounds"] >= 1
    answers = {int(k): v for k, v in r["unsub_answers"].items()}
    # Every un-SUBSCRIBE was answered: by its live subscription (200), or, once the
    # deletion had ended it, by the dialog pjsip keeps for a moment (500, no usage
    # left) or by nobody's dialog (481).
    assert set(answers) <= {200, 481, 500}, answers
    assert sum(answers.values()) == r["watchers"], answers


# The same with Account.pres_notify: the shim looked the watcher up under PJSUA_LOCK
# and pjsua_pres_notify then took its dialog lock, while the poller held that dialog
# (an un-SUBSCRIBE) and waited for PJSUA_LOCK.
NOTIFY_VS_UNSUBSCRIBE = WATCHERS + """
from pjsua_ffi._binding import C
EGONE = C.PJ_EGONE

class Watched(pj.AccountCallback):
    def __init__(self):
        super().__init__()
        self.watchers = []

    def on_incoming_subscribe(self, buddy, from_uri, contact_uri, pres_obj):
        self.watchers.append(pres_obj)
        return 200, ""

cb = Watched()
acc = ua_account(lib, tp, "x", cb=cb)
outcomes = {"sent": 0, "ended": 0}

def notify_all():
    for w in list(cb.watchers):
        try:
            acc.pres_notify(w, pj.SubscriptionState.ACTIVE)
            outcomes["sent"] += 1
        except pj.Error as exc:
            assert exc.err_code == EGONE, exc
            outcomes["ended"] += 1

rounds = 0
end = time.monotonic() + SECONDS
while time.monotonic() < end:
    cb.watchers.clear()
    batch = subscribe_all()
    assert wait_for(lambda: len(cb.watchers) == WATCHERS, 10)
    at_once(lambda: [notify_all() for _ in range(3)], batch)
    assert not any(w.is_valid() for w in cb.watchers)
    rounds += 1
    DOG.kick()
stop.set()
receiver.join()
DOG.stop()
report(rounds=rounds, watchers=n, unsub_answers=unsub_answers, **outcomes)
lib.destroy()
"""


def test_lock_order_watcher_notified_while_it_unsubscribes() -> None:
    r = run_scenario(NOTIFY_VS_UNSUBSCRIBE, str(SECONDS), timeout=SECONDS + 90)
    assert r["rounds"] >= 1
    # Every NOTIFY went out or was refused because that watcher had left; every
    # un-SUBSCRIBE found its live subscription.
    assert r["sent"] + r["ended"] == 3 * r["watchers"]
    assert r["sent"] > 0
    assert {int(k): v for k, v in r["unsub_answers"].items()} == {200: r["watchers"]}
