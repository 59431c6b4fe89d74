"""What a legacy program sees, compared with the legacy module itself (see legacy.py)."""

from __future__ import annotations

import re

import pytest
from legacy import legacy_dir, run_as, run_both

_DIR, _WHY = legacy_dir()
pytestmark = pytest.mark.skipif(_DIR is None, reason=_WHY or "no legacy module")

# Every attribute of every fresh config object, as repr (so 1 and True differ).
DEFAULTS = """
def attrs(o):
    out = {}
    for k in sorted(dir(o)):
        v = getattr(o, k)
        if k.startswith("_") or callable(v):
            continue
        if isinstance(v, list):
            out[k] = [attrs(x) if hasattr(x, "__dict__") else repr(x) for x in v]
        elif isinstance(v, (int, str, float)):  # IntEnum values too: no recursion
            out[k] = repr(v)
        else:
            out[k] = attrs(v) if hasattr(v, "__dict__") else repr(v)
    return out
values = {}
for name in ("UAConfig", "LogConfig", "MediaConfig", "TransportConfig", "AccountConfig"):
    values[name] = attrs(getattr(pjsua, name)())
values["AuthCred"] = attrs(pjsua.AuthCred("realm", "user", "pw"))
values["LogConfig(3)"] = attrs(pjsua.LogConfig(level=3, filename="x.log", console_level=2))
values["TransportConfig(5060)"] = attrs(pjsua.TransportConfig(5060, "127.0.0.1", "1.2.3.4"))
acc = pjsua.AccountConfig("example.org", "alice", "pw", "Alice", registrar="sip:reg")
values["built"] = attrs(acc)
values["built.auth_cred"] = [attrs(c) for c in acc.auth_cred]
acc = pjsua.AccountConfig()
acc.build_config("example.net", "", "", proxy="sip:proxy")
values["built2"] = attrs(acc)
report(**values)
"""


def test_fresh_config_objects_hold_pjsua_runtime_defaults() -> None:
    legacy, ours = run_both(DEFAULTS)
    # Legacy build_config() appends to a list shared by every AccountConfig (the class
    # attribute): the second config carries the first one's credential. A deliberate
    # difference ("config-lists"): each config has lists of its own.
    assert [c["username"] for c in legacy["built2"].pop("auth_cred")] == ["'alice'"]
    assert ours["built2"].pop("auth_cred") == []
    # Ours has extra attributes on some classes (listed in _differences); legacy's
    # attributes must all be there with the same values.
    def legacy_keys(got: object, want: object) -> object:
        if isinstance(want, dict) and isinstance(got, dict):
            return {k: legacy_keys(v, want[k]) for k, v in got.items() if k in want}
        return got

    for name, want in legacy.items():
        assert legacy_keys(ours[name], want) == want, name
    assert ours["MediaConfig"]["enable_ice"] == "0"
    assert ours["AccountConfig"]["reg_timeout"] == "300"


# Two accounts of one process call each other; everything the program can see is
# recorded per party (the order between the two parties of one process is a race of
# the network, in both modules).
A_CALL = """
import re, time
def norm(s):
    s = re.sub(r"127\\.0\\.0\\.1:\\d+", "127.0.0.1:P", str(s))
    return re.sub(r"(cseq=\\d+|rdata0x[0-9a-f]+)", "N", s)
log = {"main": [], "caller": [], "callee": []}
def ev(who, *a):
    log[who].append([norm(x) for x in a])
lib = pjsua.Lib()
mc = pjsua.MediaConfig()
mc.max_media_ports = 20
lib.init(pjsua.UAConfig(), pjsua.LogConfig(level=1, console_level=1), mc)
lib.set_null_snd_dev()
t1 = lib.create_transport(pjsua.TransportType.UDP, pjsua.TransportConfig(0, "127.0.0.1"))
t2 = lib.create_transport(pjsua.TransportType.UDP, pjsua.TransportConfig(0, "127.0.0.1"))
lib.start()
ev("main", str(lib), str(t1), lib.conf_get_max_ports())
inbound = []
class CallCb(pjsua.CallCallback):
    def __init__(self, who, call=None):
        pjsua.CallCallback.__init__(self, call)
        self.who = who
    def on_state(self):
        ci = self.call.info()
        ev(self.who, "state", ci.state, ci.state_text, ci.last_code, ci.last_reason,
           ci.role, str(self.call), type(ci.call_time).__name__, ci.remote_uri)
    def on_media_state(self):
        ci = self.call.info()
        ev(self.who, "media", ci.media_state, ci.media_dir, ci.conf_slot >= 0)
class AccCb(pjsua.AccountCallback):
    def on_incoming_call2(self, call, rdata):
        ev("callee", "incoming", str(call), sorted(a for a in ("msg_info_buffer",
           "msg_info_info") if hasattr(rdata, a)), rdata.msg_info_info,
           rdata.msg_info_buffer.split("\\r\\n")[0], "m=text" in rdata.msg_info_buffer)
        call.set_callback(CallCb("callee"))
        inbound.append(call)
cfg = pjsua.AccountConfig()
cfg.id = "sip:b@127.0.0.1:%d" % t2.info().port
cfg.transport_id = t2._id
cfg.rtp_transport_cfg = pjsua.TransportConfig(0, "127.0.0.1")
b = lib.create_account(cfg, set_default=False, cb=AccCb())
a = lib.create_account_for_transport(t1)
ev("main", str(a), str(b), a.is_valid(), a.is_default(), b.is_default())
call = a.make_call("sip:b@127.0.0.1:%d" % t2.info().port, CallCb("caller"))
ev("caller", "made", str(call))
def wait(pred):
    end = time.time() + 10
    while time.time() < end and not pred():
        time.sleep(0.02)
def saw(who, state):
    return any(e[:2] == ["state", str(state)] for e in log[who])
# The callee answers from this thread once the caller's program went on: in one process
# the two parties' events otherwise race (in both modules).
wait(lambda: inbound)
time.sleep(0.2)
inbound[0].answer(180)
wait(lambda: saw("caller", 2))
inbound[0].answer(200)
wait(lambda: saw("caller", 5) and saw("callee", 5))
call.hangup()
ev("caller", "hung up")
wait(lambda: saw("callee", 6) and saw("caller", 6))
time.sleep(0.2)  # the legacy worker thread polls every 50 ms
for who, c in (("caller", call), ("callee", inbound[0])):
    ev(who, "after", attempt(c.info), attempt(c.hangup), attempt(c.answer, 200),
       attempt(c.hold), attempt(c.dial_dtmf, "1"), c.is_valid(), str(c))
b.delete()
ev("main", "deleted", attempt(b.info), b.is_valid(), b.is_default(), str(b))
lib.destroy()
ev("main", "destroyed", str(lib), attempt(call.info), attempt(lambda: a.info().uri),
   attempt(lambda: t1.info().port), str(a), str(t1))
report(**log)
"""


def test_a_call_looks_the_same() -> None:
    legacy, ours = run_both(A_CALL)
    # Text streams: the one difference in what goes on the wire ("text-streams-off").
    assert legacy["callee"][0][-1] == "True" and ours["callee"][0][-1] == "False"
    legacy["callee"][0][-1] = ours["callee"][0][-1] = "-"
    for who in ("main", "caller", "callee"):
        assert ours[who] == legacy[who], who
    assert ours["callee"][0][3].startswith("Request msg INVITE/N (N)")


# Errors: the operation name, the object (as str) and the code the legacy module gives.
ERRORS = """
lib = pjsua.Lib()
lib.init(log_cfg=pjsua.LogConfig(level=1, console_level=1))
lib.set_null_snd_dev()
tp = lib.create_transport(pjsua.TransportType.UDP, pjsua.TransportConfig(0, "127.0.0.1"))
lib.start()
acc = lib.create_account_for_transport(tp)
out = {}
out["make_call"] = attempt(acc.make_call, "sip:x@127.0.0.1:1;transport=xyz")
out["conf_connect"] = attempt(lib.conf_connect, 99, 98)
out["conf_disconnect"] = attempt(lib.conf_disconnect, 99, 98)
out["tx_level"] = attempt(lib.conf_set_tx_level, 99, 1.0)
out["player"] = attempt(lib.create_player, "/nonexistent/x.wav")
out["codec"] = attempt(lib.get_codec_parameter, "nope/1")
out["codec_priority"] = attempt(lib.set_codec_priority, "nope/1", 10)
out["player_destroy"] = attempt(lib.player_destroy, 7)
out["recorder_destroy"] = attempt(lib.recorder_destroy, 7)
try:
    lib.conf_connect(99, 98)
except pjsua.Error as e:
    out["text"] = str(e)
    out["msg"] = e.err_msg()
    out["is_exception"] = isinstance(e, Exception)
report(**out)
lib.destroy()
"""

# In the legacy module the failed second Lib's __del__ destroys pjsua under the first
# one (whose worker thread then crashes): nothing may run after it.
SECOND_LIB = """
import os
lib = pjsua.Lib()
report(second=attempt(pjsua.Lib))
os._exit(0)
"""


def test_errors_carry_legacy_names_and_are_exceptions() -> None:
    legacy, ours = run_both(ERRORS)
    port = re.compile(r"127\.0\.0\.1:\d+")
    assert port.sub("P", repr(ours)) == port.sub("P", repr(legacy))
    legacy, ours = run_both(SECOND_LIB)
    assert ours == legacy == {"second": ["Error", "__init()__", "None", -1]}
    # Without our test prelude the legacy Error cannot be raised at all on Python 3:
    # the deliberate difference "error-is-exception".
    legacy_raw = run_as("legacy", "report(is_exc=issubclass(_Plain, BaseException))")
    assert legacy_raw["is_exc"] is False


MEDIA_ERRORS = """
lib = pjsua.Lib()
lib.init(log_cfg=pjsua.LogConfig(level=1, console_level=1))
lib.set_null_snd_dev()
lib.start()
report(player_slot=attempt(lib.player_get_slot, 7),
       playlist_slot=attempt(lib.playlist_get_slot, 7),
       recorder_slot=attempt(lib.recorder_get_slot, 7))
lib.destroy()
"""


def test_media_errors_match_legacy() -> None:
    legacy, ours = run_both(MEDIA_ERRORS)
    # "slot-of-unknown-player": legacy hands out pjsua's status (PJ_EINVAL) as a slot.
    for key, op in (("player_slot", "player_get_slot()"),
                    ("playlist_slot", "playlist_get_slot()"),
                    ("recorder_slot", "recorder_get_slot()")):
        assert legacy[key] == 70004
        assert ours[key] == ["Error", op, "Lib", 70004]


CONSTANTS = """
names = {}
for cls in ("TransportType", "TransportFlag", "CallRole", "CallState", "MediaState",
            "MediaDir", "PresenceActivity", "SubscriptionState", "TURNConnType"):
    c = getattr(pjsua, cls)
    names[cls] = {k: [int(getattr(c, k)), str(getattr(c, k)), "%d" % getattr(c, k)]
                  for k in dir(c) if k.isupper()}
report(**names)
"""


def test_constants_equal_legacy_ints() -> None:
    legacy, ours = run_both(CONSTANTS)
    for cls, members in legacy.items():
        for name, value in members.items():
            assert ours[cls][name] == value, (cls, name)


AUTO_LOCK = """
import threading, time
lib = pjsua.Lib()
lib.init(log_cfg=pjsua.LogConfig(level=1, console_level=1))
lib.set_null_snd_dev()
tp = lib.create_transport(pjsua.TransportType.UDP, pjsua.TransportConfig(0, "127.0.0.1"))
lib.start()
order = []
held, states = threading.Event(), []
class Answer(pjsua.AccountCallback):
    def on_incoming_call(self, call):
        call.answer(200)
class Log(pjsua.CallCallback):
    def on_state(self):
        states.append(self.call.info().state)
acc = lib.create_account_for_transport(tp, cb=Answer())
def holder():
    lib.thread_register("holder")  # legacy: pjlib hangs on threads it does not know
    lck = lib.auto_lock()
    held.set()
    # A legacy program makes a call while it holds the lock, then lets go.
    holder.call = acc.make_call("sip:x@127.0.0.1:%d" % tp.info().port, Log())
    time.sleep(0.3)
    order.append("released")
    del lck
t = threading.Thread(target=holder)
t.start()
held.wait()
order.append(("max ports", lib.conf_get_max_ports() > 0))  # waits for the holder
t.join()
end = time.time() + 10
while time.time() < end and 5 not in states:
    time.sleep(0.02)
holder.call.hangup()
while time.time() < end and 6 not in states:
    time.sleep(0.02)
report(order=order, states=[int(s) for s in states])
lib.destroy()
"""


def test_auto_lock_makes_other_threads_wait() -> None:
    legacy, ours = run_both(AUTO_LOCK)
    assert ours == legacy
    assert ours["order"] == ["released", ["max ports", True]]
    assert ours["states"][0] == 1 and ours["states"][-2:] == [5, 6]


def test_readme_lists_every_deliberate_difference() -> None:
    from pathlib import Path

    from pjsua_ffi._differences import DIFFERENCES, migration_markdown

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    begin, end = "<!-- differences:begin -->\n", "<!-- differences:end -->"
    section = readme[readme.index(begin) + len(begin):readme.index(end)]
    assert section == migration_markdown(), "README: python -m pjsua_ffi._differences"
    assert len({d.key for d in DIFFERENCES}) == len(DIFFERENCES)
    for d in DIFFERENCES:  # each names a test that exists
        path, name = d.test.split("::")
        name, _, param = name.partition("[")  # a parametrised test: its case must exist
        text = (root / path).read_text()
        assert f"\ndef {name}(" in text, d.test
        if param and path.endswith("test_differential.py"):
            assert (root / "tests" / "legacy_scenarios" / f"{param[:-1]}.py").exists(), d.test


# The tutorial's media shapes: a WAV player and recorder on the bridge, a call fed by the
# player and recorded, two calls joined in a conference; return values and errors.
MEDIA = """
import math, os, struct, tempfile, time, wave
tmp = tempfile.mkdtemp()
src = os.path.join(tmp, "tone.wav")
with wave.open(src, "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
    w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 16000)))
                           for i in range(16000)))
lib = pjsua.Lib()
lib.init(log_cfg=pjsua.LogConfig(level=1, console_level=1))
lib.set_null_snd_dev()
tp = lib.create_transport(pjsua.TransportType.UDP, pjsua.TransportConfig(0, "127.0.0.1"))
lib.start()
out = {}
codecs = lib.enum_codecs()
out["codecs"] = sorted((c.name, c.priority, c.clock_rate, c.channel_count, c.avg_bps,
                        c.frm_ptime, c.ptime, c.pt, c.vad_enabled, c.plc_enabled)
                       for c in codecs)
p = lib.get_codec_parameter("PCMU/8000/1")
out["param"] = [p.ptime, p.vad_enabled, p.plc_enabled]
out["prio"] = attempt(lib.set_codec_priority, "PCMU/8000/1", 200)
out["snd_dev"] = attempt(lib.get_snd_dev)
player = lib.create_player(src, loop=True)
pslot = lib.player_get_slot(player)
out["player"] = [player, pslot, attempt(lib.player_set_pos, player, 0)]
playlist = lib.create_playlist([src, src], "pl", loop=False)
out["playlist"] = [playlist, lib.playlist_get_slot(playlist)]
rec_file = os.path.join(tmp, "rec.wav")
rec = lib.create_recorder(rec_file)
rslot = lib.recorder_get_slot(rec)
out["recorder"] = [rec, rslot]
out["connect"] = [attempt(lib.conf_connect, pslot, rslot),
                  attempt(lib.conf_set_tx_level, pslot, 0.5),
                  attempt(lib.conf_set_rx_level, pslot, 1.0)]
levels = lib.conf_get_signal_level(pslot)
out["levels"] = [type(levels).__name__, len(levels), [type(x).__name__ for x in levels]]
answered = []
class Answer(pjsua.AccountCallback):
    def on_incoming_call(self, call):
        answered.append(call)
        call.answer(200)
acc = lib.create_account_for_transport(tp, cb=Answer())
states = []
class Log(pjsua.CallCallback):
    def on_state(self):
        states.append((len(states), self.call.info().state))
    def on_media_state(self):
        ci = self.call.info()
        if ci.media_state == pjsua.MediaState.ACTIVE:
            lib.conf_connect(pslot, ci.conf_slot)
            lib.conf_connect(ci.conf_slot, rslot)
uri = "sip:x@127.0.0.1:%d" % tp.info().port
c1 = acc.make_call(uri, Log())
c2 = acc.make_call(uri, Log())
end = time.time() + 10
while time.time() < end and len(answered) < 2 or any(
        c.info().state != pjsua.CallState.CONFIRMED for c in (c1, c2) if c.is_valid()):
    time.sleep(0.05)
# A conference: both calls hear each other.
s1, s2 = c1.info().conf_slot, c2.info().conf_slot
out["conference"] = [attempt(lib.conf_connect, s1, s2), attempt(lib.conf_connect, s2, s1),
                     attempt(lib.conf_disconnect, s1, s2)]
time.sleep(0.5)
lib.hangup_all()
time.sleep(0.3)
out["destroy"] = [attempt(lib.player_destroy, player), attempt(lib.playlist_destroy, playlist),
                  attempt(lib.recorder_destroy, rec)]
out["recorded"] = os.path.getsize(rec_file) > 1000
out["again"] = attempt(lib.player_destroy, player)
lib.destroy()
report(**out)
"""


def test_tutorial_media_shapes() -> None:
    legacy, ours = run_both(MEDIA)
    # "garbage-values": legacy frame/packet times are garbage (and pt is 0).
    for row in legacy["codecs"] + ours["codecs"]:
        row[5:8] = ["-", "-", "-"]
    assert ours["param"][0] == 20 and legacy["param"][0] != 20
    legacy["param"][0] = ours["param"][0] = "-"
    assert ours == legacy
    assert ours["recorded"] is True


# Every method of a deleted buddy, a deleted account and a closed transport.
DEAD_OBJECTS = """
lib = pjsua.Lib()
lib.init(log_cfg=pjsua.LogConfig(level=1, console_level=1))
lib.set_null_snd_dev()
tp = lib.create_transport(pjsua.TransportType.UDP, pjsua.TransportConfig(0, "127.0.0.1"))
tp2 = lib.create_transport(pjsua.TransportType.UDP, pjsua.TransportConfig(0, "127.0.0.1"))
lib.start()
acc = lib.create_account_for_transport(tp)
acc2 = lib.create_account_for_transport(tp)
buddy = acc.add_buddy("sip:b@127.0.0.1:9")
out = {}
out["buddy_del"] = attempt(buddy.delete)
for name, args in [("info", ()), ("subscribe", ()), ("unsubscribe", ()), ("delete", ()),
                   ("send_pager", ("x",)), ("send_typing_ind", (True,))]:
    r = attempt(getattr(buddy, name), *args)
    out["buddy." + name] = r if isinstance(r, list) or r is None else type(r).__name__
out["buddy.info.uri"] = attempt(lambda: buddy.info().uri)
out["acc_del"] = attempt(acc2.delete)
for name, args in [("info", ()), ("set_default", ()), ("set_registration", (True,)),
                   ("make_call", ("sip:x@127.0.0.1:9",)), ("add_buddy", ("sip:c@127.0.0.1:9",)),
                   ("send_pager", ("sip:x@127.0.0.1:9", "hi")), ("set_basic_status", (True,)),
                   ("set_presence_status", (True,)), ("is_valid", ()), ("is_default", ()),
                   ("set_transport", (tp,)), ("delete", ())]:
    r = attempt(getattr(acc2, name), *args)
    out["acc." + name] = r if isinstance(r, (list, int)) or r is None else type(r).__name__
out["tp_close"] = attempt(tp2.close)
out["tp.info"] = attempt(tp2.info)
out["tp.close"] = attempt(tp2.close)
report(**out)
lib.destroy()
"""


def test_dead_objects_fail_as_in_legacy() -> None:
    legacy, ours = run_both(DEAD_OBJECTS)
    port = re.compile(r"127\.0\.0\.1:\d+")
    legacy, ours = (eval(port.sub("P", repr(x))) for x in (legacy, ours))
    # "misuse-raises": legacy reaches pjsua with a stale or -1 id and gets no error.
    assert legacy.pop("buddy.delete") is None and legacy.pop("acc.set_default") is None
    assert legacy.pop("acc.add_buddy") == "Buddy"  # a buddy of the default account
    for key, op in (("buddy.delete", "delete()"), ("acc.set_default", "set_default()"),
                    ("acc.add_buddy", "add_buddy()")):
        assert ours.pop(key)[:2] == ["Error", op]
    assert ours == legacy


# Messages (account, buddy, in a call), typing, presence and DTMF between two accounts;
# every callback's arguments, per receiver (between receivers, the order is a race).
IM_PRESENCE_DTMF = """
import re, time
def norm(x):
    return re.sub(r"127\\.0\\.0\\.1:\\d+", "127.0.0.1:P", repr(x))
log = []
def ev(*a):
    log.append([norm(x) for x in a])
lib = pjsua.Lib()
lib.init(log_cfg=pjsua.LogConfig(level=1, console_level=1))
lib.set_null_snd_dev()
t1 = lib.create_transport(pjsua.TransportType.UDP, pjsua.TransportConfig(0, "127.0.0.1"))
t2 = lib.create_transport(pjsua.TransportType.UDP, pjsua.TransportConfig(0, "127.0.0.1"))
lib.start()
class AccCb(pjsua.AccountCallback):
    def __init__(self, name):
        pjsua.AccountCallback.__init__(self)
        self.name = name
    def on_pager(self, from_uri, contact, mime_type, body):
        ev(self.name, "pager", from_uri, contact, mime_type, body, type(body).__name__)
    def on_pager_status(self, to_uri, body, im_id, code, reason):
        ev(self.name, "pager_status", to_uri, body, im_id, code, reason)
    def on_typing(self, from_uri, contact, is_typing):
        ev(self.name, "typing", from_uri, contact, is_typing)
    def on_incoming_call(self, call):
        call.set_callback(CallCb("callee"))
        call.answer(200)
    def on_incoming_subscribe(self, buddy, from_uri, contact_uri, pres_obj):
        ev(self.name, "subscribe", buddy is None, from_uri, contact_uri)
        return (200, None)
class BudCb(pjsua.BuddyCallback):
    def on_state(self):
        i = self.buddy.info()
        ev("buddy", "state", i.online_status, i.online_text, i.activity, i.subscribed,
           i.sub_state, i.sub_term_reason)
    def on_pager(self, mime_type, body):
        ev("buddy", "pager", mime_type, body)
    def on_pager_status(self, body, im_id, code, reason):
        ev("buddy", "pager_status", body, im_id, code, reason)
    def on_typing(self, is_typing):
        ev("buddy", "typing", is_typing)
class CallCb(pjsua.CallCallback):
    def __init__(self, name):
        pjsua.CallCallback.__init__(self)
        self.name = name
    def on_dtmf_digit(self, digits):
        ev(self.name, "dtmf", digits)
    def on_pager(self, mime_type, body):
        ev(self.name, "pager", mime_type, body)
    def on_pager_status(self, body, im_id, code, reason):
        ev(self.name, "pager_status", body, im_id, code, reason)
    def on_typing(self, is_typing):
        ev(self.name, "typing", is_typing)
def account(name, tp, default):
    cfg = pjsua.AccountConfig()
    cfg.id = "sip:%s@127.0.0.1:%d" % (name, tp.info().port)  # From carries the port
    cfg.transport_id = tp._id
    cfg.rtp_transport_cfg = pjsua.TransportConfig(0, "127.0.0.1")
    return lib.create_account(cfg, default, AccCb(name))
a = account("a", t1, True)
b = account("b", t2, False)
buri = "sip:b@127.0.0.1:%d" % t2.info().port
# A local account's From has no port: the "buddy-match" difference.
local = lib.create_account_for_transport(t2, False, AccCb("local"))
local_uri = "sip:127.0.0.1:%d" % t2.info().port
ev("local_buddy", attempt(lambda: a.add_buddy(local_uri, BudCb()).info().uri))
def settle(n=0.6):
    time.sleep(n)
a.send_pager(buri, "hello b", 7)
settle()
a.send_pager("sip:127.0.0.1:9", "nobody", 8)  # nobody listens: a timeout/error status
b.set_basic_status(True)
bud = a.add_buddy(buri, BudCb())
ev("buddy_info", bud.info().uri, bud.info().online_status, bud.info().subscribed)
bud.subscribe()
settle()
bud.send_pager("via buddy", 9)
bud.send_typing_ind(True)
settle()
b.set_presence_status(False, pjsua.PresenceActivity.BUSY, "lunch")
settle()
call = a.make_call(buri, CallCb("caller"))
settle(1.0)
call.dial_dtmf("12#")
call.send_pager("in call", 10)
settle(1.0)
call.hangup()
settle()
local.send_pager("sip:a@127.0.0.1:%d" % t1.info().port, "from local", 11)
settle()
report(log=log)
lib.destroy()
"""


def _by_receiver(log: list) -> dict:
    out: dict = {}
    for entry in log:
        # DTMF comes with the audio, messages with SIP: two streams, in order each
        name = entry[0].strip("'") + ("/dtmf" if entry[1] == "'dtmf'" else "")
        out.setdefault(name, []).append(entry[1:])
    return out


def test_messages_presence_and_dtmf() -> None:
    legacy, ours = (_by_receiver(r["log"]) for r in run_both(IM_PRESENCE_DTMF, timeout=90))
    # "message-body-type": str in legacy, MessageBody (a str) in ours.
    for log, kind in ((legacy, "'str'"), (ours, "'MessageBody'")):
        for name in ("a", "b", "local"):
            for entry in log.get(name, []):
                if entry[0] == "'pager'":
                    assert entry[-1] == kind
                    entry[-1] = "-"
    # "buddy-match": a's buddy for the local account (whose From has no port) gets
    # its message in ours; legacy hands it to the account.
    assert ["'pager'", "'<sip:127.0.0.1>'", "''", "'text/plain'", "'from local'", "-"] \
        in legacy["a"]
    assert ["'pager'", "'text/plain'", "'from local'"] in ours["buddy"]
    legacy["a"] = [e for e in legacy["a"] if "'from local'" not in e]
    ours["buddy"] = [e for e in ours["buddy"] if "'from local'" not in e]
    # "enum-constants" and "garbage-values" in the buddy's states.
    for log in (legacy, ours):
        for entry in log["buddy"]:
            if entry[0] == "'state'":
                entry[1:] = [str(int(re.sub(r"^<\w+\.\w+: (-?\d+)>$", r"\1", x)))
                             if x[0] in "<-0123456789" else x for x in entry[1:-1]] + ["-"]
        log["buddy_info"] = [[re.sub(r"^<\w+\.\w+: (-?\d+)>$", r"\1", x) for x in e]
                             for e in log["buddy_info"]]
    assert ours == legacy


LOG_CALLBACK = """
import time
seen = []
def log_cb(level, text, length):
    seen.append((level, length == len(text)))
lib = pjsua.Lib()
lib.init(log_cfg=pjsua.LogConfig(level=4, callback=log_cb))
after_init = list(seen)
lib.set_null_snd_dev()
lib.create_transport(pjsua.TransportType.UDP, pjsua.TransportConfig(0, "127.0.0.1"))
lib.start()
n = len(seen)
lib.destroy()
report(after_init=bool(after_init), levels_ok=all(lv <= 4 for lv, _ in seen),
       lengths_ok=all(ok for _, ok in seen), more_on_destroy=len(seen) > n)
"""


def test_log_callback_lines_arrive_inside_the_calls() -> None:
    legacy, ours = run_both(LOG_CALLBACK)
    assert ours == legacy == {"after_init": True, "levels_ok": True, "lengths_ok": True,
                              "more_on_destroy": True}


# Info objects of transports and accounts, URI checks and parsing, small Lib helpers.
INFO_AND_HELPERS = """
import re
def attrs(o):
    return {k: re.sub(r"127\\.0\\.0\\.1:\\d+|:\\d{4,5}$", "P", repr(getattr(o, k)))
            for k in sorted(dir(o)) if not k.startswith("_") and not callable(getattr(o, k))}
lib = pjsua.Lib()
lib.init(log_cfg=pjsua.LogConfig(level=1, console_level=1))
lib.set_null_snd_dev()
tp = lib.create_transport(pjsua.TransportType.UDP, pjsua.TransportConfig(0, "127.0.0.1"))
tcp = lib.create_transport(pjsua.TransportType.TCP, pjsua.TransportConfig(0, "127.0.0.1"))
lib.start()
acc = lib.create_account_for_transport(tp)
cfg = pjsua.AccountConfig()
cfg.id = "sip:u@127.0.0.1"
acc2 = lib.create_account(cfg, set_default=False)
out = {"tp": attrs(tp.info()), "tcp": attrs(tcp.info()), "acc": attrs(acc.info()),
       "acc2": attrs(acc2.info())}
out["verify"] = [lib.verify_sip_url(u)
                 for u in ("sip:a@b", "not a uri", "", "sips:x@y:5061", "tel:123")]
out["snd"] = [attempt(lib.get_snd_dev), [attrs(d) for d in lib.enum_snd_dev()]]
out["hangup_all"] = attempt(lib.hangup_all)
out["max_ports"] = lib.conf_get_max_ports()
out["thread_register"] = attempt(lib.thread_register, "x")
out["set_default"] = [attempt(acc2.set_default), acc2.is_default(), acc.is_default()]
out["set_basic"] = attempt(acc.set_basic_status, True)
out["online"] = [acc.info().online_status, acc.info().online_text]
out["presence"] = attempt(acc.set_presence_status, True, pjsua.PresenceActivity.AWAY, "gone", "r1")
out["online2"] = [acc.info().online_status, acc.info().online_text]
URIS = ('"Bob" <sip:bob@127.0.0.1:5070;transport=tcp>', "sip:a@b;transport=udp",
        "sip:a@b", "sips:x@y:5061", "not a uri", "tel:123")
for s in URIS:
    try:
        u = pjsua.SIPUri(s)
        out["uri " + s] = [u.scheme, u.user, u.host, u.port, u.transport]
    except Exception as e:
        out["uri " + s] = type(e).__name__
    try:
        out["uri " + s + " enc"] = pjsua.SIPUri(s).encode()
    except Exception as e:
        out["uri " + s + " enc"] = type(e).__name__
u = pjsua.SIPUri(); u.scheme, u.user, u.host = "sip", "a", "b"
out["enc_noport"] = u.encode()
report(**out)
lib.destroy()
"""


def test_info_objects_and_helpers() -> None:
    legacy, ours = run_both(INFO_AND_HELPERS)
    for out in (legacy, ours):  # ports picked by the system
        out["tp"].pop("port"), out["tcp"].pop("port")
    # "sipuri-fixes": the legacy helper drops transport=tcp and cannot encode a port.
    tcp_uri = 'uri "Bob" <sip:bob@127.0.0.1:5070;transport=tcp>'
    assert legacy.pop(tcp_uri)[4] == "" and ours.pop(tcp_uri)[4] == "tcp"
    for key in (tcp_uri + " enc", "uri sips:x@y:5061 enc"):
        assert legacy.pop(key) == "TypeError" and ours.pop(key) != "TypeError"
    for key in [k for k in legacy if k.startswith(("uri not", "uri tel"))]:
        assert legacy.pop(key) == "TypeError" and ours.pop(key) == "NotASipUri"
    # "extras": attributes only ours has (AccountInfo.reg_last_err, ...) are left out.
    for key, want in legacy.items():
        if isinstance(want, dict) and isinstance(ours.get(key), dict):
            ours[key] = {k: v for k, v in ours[key].items() if k in want}
    assert ours == legacy


# The signalling methods of a call that was rejected (486) and is gone.
DEAD_CALL = """
import time
lib = pjsua.Lib()
lib.init(log_cfg=pjsua.LogConfig(level=1, console_level=1))
lib.set_null_snd_dev()
tp = lib.create_transport(pjsua.TransportType.UDP, pjsua.TransportConfig(0, "127.0.0.1"))
lib.start()
class Answer(pjsua.AccountCallback):
    def on_incoming_call(self, call):
        call.answer(486)
states = []
class Log(pjsua.CallCallback):
    def on_state(self):
        states.append(self.call.info().state)
acc = lib.create_account_for_transport(tp, cb=Answer())
call = acc.make_call("sip:x@127.0.0.1:%d" % tp.info().port, Log())
other = acc.make_call("sip:y@127.0.0.1:%d" % tp.info().port, pjsua.CallCallback())
end = time.time() + 10
while time.time() < end and 6 not in states:
    time.sleep(0.05)
time.sleep(0.3)
out = {"states": [int(s) for s in states]}
for name, args in [("unhold", ()), ("reinvite", ()), ("update", ()),
                   ("transfer", ("sip:z@127.0.0.1:9",)), ("transfer_to_call", (other,)),
                   ("send_request", ("INFO",)), ("send_pager", ("hi",))]:
    out[name] = attempt(getattr(call, name), *args)
out["dump"] = attempt(call.dump_status)
out["attach"] = attempt(call.attach_to_id, -1)
out["str_after_detach"] = str(call)
report(**out)
lib.destroy()
"""


def test_methods_of_an_ended_call() -> None:
    port = re.compile(r"127\.0\.0\.1:\d+")
    legacy, ours = (port.sub("P", repr(r)) for r in run_both(DEAD_CALL))
    assert ours == legacy


# B transfers A's call to C: what each callback sees, per receiver.
BLIND_TRANSFER = """
import os, re, sys, time
def norm(x):
    return re.sub(r"127\\.0\\.0\\.1:\\d+", "P", repr(x))
log = []
def ev(*a):
    log.append([norm(x) for x in a])
lib = pjsua.Lib()
lib.init(log_cfg=pjsua.LogConfig(level=1, console_level=1))
lib.set_null_snd_dev()
tps = [lib.create_transport(pjsua.TransportType.UDP, pjsua.TransportConfig(0, "127.0.0.1"))
       for _ in range(3)]
lib.start()
calls = {}
class CallCb(pjsua.CallCallback):
    def __init__(self, name):
        pjsua.CallCallback.__init__(self)
        self.name = name
    def on_state(self):
        ci = self.call.info()
        ev(self.name, "state", ci.state, ci.last_code, ci.last_reason)
    def on_transfer_request(self, dst, code):
        ev(self.name, "xfer_request", dst, code)
        return code
    def on_transfer_status(self, code, reason, final, cont):
        ev(self.name, "xfer_status", code, reason, final, cont)
        return cont
class AccCb(pjsua.AccountCallback):
    def __init__(self, name):
        pjsua.AccountCallback.__init__(self)
        self.name = name
    def on_incoming_call(self, call):
        ev(self.name, "incoming", str(call))
        calls[self.name] = call
        call.set_callback(CallCb(self.name + "-in"))
        call.answer(200)
def account(name, tp, default):
    cfg = pjsua.AccountConfig()
    cfg.id = "sip:%s@127.0.0.1:%d" % (name, tp.info().port)
    cfg.transport_id = tp._id
    cfg.rtp_transport_cfg = pjsua.TransportConfig(0, "127.0.0.1")
    return lib.create_account(cfg, default, AccCb(name))
a, b, c = (account(n, t, n == "a") for n, t in zip("abc", tps))
call = a.make_call("sip:b@127.0.0.1:%d" % tps[1].info().port, CallCb("a-out"))
def wait(pred):
    end = time.time() + 10
    while time.time() < end and not pred():
        time.sleep(0.05)
wait(lambda: ["'b-in'", "'state'", "5", "200", "'OK'"] in log)
time.sleep(0.3)
calls["b"].transfer("sip:c@127.0.0.1:%d" % tps[2].info().port)
wait(lambda: any(e[:2] == ["'b-in'", "'xfer_status'"] and e[4] == "1" for e in log))
time.sleep(1.0)
# Each callee hangs up on its own, and then the rest: if hangup_all() ended both sides of
# a call, which side went first would decide the other's reason (in legacy SIP waits
# for the call to return; here it runs on: the deliberate difference "callback-thread").
for name in ("b", "c"):
    calls[name].hangup()
    wait(lambda: any(e[:3] == ["'%s-in'" % name, "'state'", "6"] for e in log))
time.sleep(0.5)
lib.hangup_all()
time.sleep(0.5)
by = {}
for e in log:
    by.setdefault(e[0], []).append(e[1:])
report(**by)
# Legacy's destroy() after a transfer crashes now and then (a segfault in its
# garbage collection): what the program saw is reported above, so end here.
sys.stdout.flush()
os._exit(0)
"""


def test_blind_transfer_callbacks() -> None:
    legacy, ours = run_both(BLIND_TRANSFER, timeout=90)
    for log in (legacy, ours):  # "enum-constants"
        for entries in log.values():
            for e in entries:
                e[1:] = [re.sub(r"^<\w+\.\w+: (-?\d+)>$", r"\1", x) for x in e[1:]]
    # "transfer-call": in legacy, the events of the call that A makes to C reach A's
    # old callback, which reads the old call's state (CONFIRMED, then DISCONNECTED).
    a_new = legacy["'a-out'"][4:]
    assert a_new and all(e[0] == "'state'" and e[1] in ("5", "6") for e in a_new)
    legacy["'a-out'"] = legacy["'a-out'"][:4] + [legacy["'a-out'"][-1]]
    assert ours == legacy
    assert ["'xfer_request'", "'sip:c@P'", "202"] in ours["'a-out'"]


# Two accounts each with a buddy of the same URI; the second account's buddy sends a
# MESSAGE that pjsua refuses at once (a TCP URI over a UDP-only account).
PAGER_STATUS_ROUTE = """
import time
lib = pjsua.Lib()
lib.init(log_cfg=pjsua.LogConfig(level=0, console_level=0))
lib.set_null_snd_dev()
udp = lib.create_transport(pjsua.TransportType.UDP, pjsua.TransportConfig(0, "127.0.0.1"))
tcp = lib.create_transport(pjsua.TransportType.TCP, pjsua.TransportConfig(0, "127.0.0.1"))
lib.start()
got = []
class Cb(pjsua.BuddyCallback):
    def __init__(self, name):
        pjsua.BuddyCallback.__init__(self)
        self.name = name
    def on_pager_status(self, body, im_id, code, reason):
        got.append([self.name, body, code, reason])
first = lib.create_account_for_transport(tcp)
second = lib.create_account_for_transport(udp, set_default=False)
target = "sip:nobody@127.0.0.1:9;transport=tcp"
first.add_buddy(target, cb=Cb("first"))
sender = second.add_buddy(target, cb=Cb("second"))
raised = attempt(sender.send_pager, "hi")
time.sleep(0.5)
report(raised=raised, got=got)
lib.destroy()
"""


def test_pager_status_goes_to_the_sending_buddy() -> None:
    """"buddy-match": legacy gives a MESSAGE's status to the first buddy with its To URI
    (here another account's); ours to the buddy that sent it."""
    legacy, ours = run_both(PAGER_STATUS_ROUTE)
    assert legacy["raised"] == ours["raised"] and legacy["raised"][0] == "Error"
    assert legacy["got"] == [["first", "hi", 503, "Service Unavailable"]]
    assert ours["got"] == [["second", "hi", 503, "Service Unavailable"]]


# A call to an account whose callback is the default one: it rejects the call with
# hangup()'s defaults (603 and reason ""); what the caller sees.
DEFAULT_REJECTION = """
import time
lib = pjsua.Lib()
lib.init(log_cfg=pjsua.LogConfig(level=0, console_level=0))
lib.set_null_snd_dev()
t1 = lib.create_transport(pjsua.TransportType.UDP, pjsua.TransportConfig(0, "127.0.0.1"))
t2 = lib.create_transport(pjsua.TransportType.UDP, pjsua.TransportConfig(0, "127.0.0.1"))
lib.start()
rejecting = lib.create_account_for_transport(t1)
cfg = pjsua.AccountConfig()
cfg.id = "sip:caller@127.0.0.1:%d" % t2.info().port
cfg.transport_id = t2._id
caller = lib.create_account(cfg, set_default=False)
seen = []
class Cb(pjsua.CallCallback):
    def on_state(self):
        ci = self.call.info()
        seen.append([ci.state_text, ci.last_code, ci.last_reason])
caller.make_call("sip:127.0.0.1:%d" % t1.info().port, cb=Cb())
for _ in range(100):
    if seen and seen[-1][0] == "DISCONNECTED":
        break
    time.sleep(0.05)
report(seen=seen)
lib.destroy()
"""


def test_default_rejection_has_a_reason_phrase() -> None:
    """"hangup-reason": legacy's hangup() with its default reason "" sends a final
    response with an empty reason phrase; ours the code's own phrase, as legacy's
    docstring promises."""
    legacy, ours = run_both(DEFAULT_REJECTION)
    assert legacy["seen"][-1] == ["DISCONNECTED", 603, ""]
    assert ours["seen"][-1] == ["DISCONNECTED", 603, "Decline"]
    assert legacy["seen"][:-1] == ours["seen"][:-1]
