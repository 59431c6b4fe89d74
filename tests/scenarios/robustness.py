"""Scenarios of tests/test_robustness.py: random API sequences (hypothesis) and a user
agent that takes hostile SIP."""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import threading
import time

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

import pjsua_ffi as pj
from tests.scenarios import main
from tests.support import (
    AnsweringAccount,
    CallLog,
    Events,
    Watchdog,
    report,
    ua_account,
    ua_lib,
    uri_of,
)


def machine(peer_uri: str, sequences: str) -> None:
    """Random API sequences on live, stale and garbage objects, from several threads."""
    # A step that does not return within PJSUA_FFI_FUZZ_DUMP seconds is a hang: every
    # thread's C and Python stack is printed and the process ends at once.
    dog = Watchdog(float(os.environ.get("PJSUA_FFI_FUZZ_DUMP", "60")), "API step returned")
    peer = peer_uri
    n_examples = int(sequences)
    allowed = (pj.Error, TypeError, ValueError)
    stats = {"steps": 0, "sequences": 0, "errors": 0, "libs": 0, "threads": 0}
    rec = os.path.join(tempfile.mkdtemp(prefix="pjsua-ffi-fuzz-"), "rec.wav")
    garbage = st.one_of(st.none(), st.integers(-10**6, 10**6), st.text(max_size=30),
                        st.binary(max_size=30), st.floats(allow_nan=True), st.lists(st.integers()))
    state = {"lib": None, "tp": None}

    def new_lib():
        lib, (tp,) = ua_lib(max_calls=64)
        state["lib"], state["tp"] = lib, tp
        stats["libs"] += 1

    def attempt(fn, *args):
        stats["steps"] += 1
        dog.kick()
        try:
            fn(*args)
        except allowed:
            stats["errors"] += 1

    def in_thread(fn, *args):
        stats["threads"] += 1
        t = threading.Thread(target=attempt, args=(fn, *args))
        t.start()
        t.join(10)
        assert not t.is_alive(), "an API call from a thread hung"

    class Api(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            stats["sequences"] += 1
            dog.kick()
            if state["lib"] is None or not state["lib"]._running():
                new_lib()
            self.lib, self.tp = state["lib"], state["tp"]
            self.accounts, self.calls, self.players, self.dead = [], [], [], []
            self.buddies = []
            self.accounts.append(ua_account(self.lib, self.tp, "me", cb=AnsweringAccount(Events())))

        def teardown(self):
            try:
                self.lib.hangup_all()
            except allowed:
                pass
            for acc in self.accounts:
                try:
                    acc.delete()
                except allowed:
                    pass

        def pick(self, data, items):
            return data.draw(st.sampled_from(items)) if items else None

        @rule(data=st.data(), to_self=st.booleans(), threaded=st.booleans())
        def make_call(self, data, to_self, threaded):
            acc = self.pick(data, self.accounts + self.dead)
            if acc is None:
                return
            uri = uri_of(self.tp, "me") if to_self else peer
            def go():
                self.calls.append(acc.make_call(uri, CallLog(Events())))
            (in_thread if threaded else attempt)(go)

        @rule(data=st.data(), op=st.sampled_from(["answer", "hangup", "hold", "unhold", "reinvite",
                                                  "update", "dial_dtmf", "send_request", "info",
                                                  "dump_status", "is_valid", "transfer",
                                                  "transfer_to_call", "send_typing_ind"]),
              threaded=st.booleans())
        def call_op(self, data, op, threaded):
            call = self.pick(data, self.calls)
            if call is None:
                return
            args = {"dial_dtmf": ("12",), "send_request": ("INFO",), "answer": (200,),
                    "transfer": (peer,)}.get(op, ())
            if op == "transfer_to_call":
                args = (self.pick(data, self.calls),)
            (in_thread if threaded else attempt)(getattr(call, op), *args)

        @rule(data=st.data(), junk=garbage)
        def garbage_args(self, data, junk):
            call = self.pick(data, self.calls)
            acc = self.pick(data, self.accounts + self.dead)
            targets = [lambda: self.lib.conf_connect(junk, junk),
                       lambda: self.lib.create_player(junk),
                       lambda: self.lib.player_destroy(junk),
                       lambda: self.lib.recorder_get_slot(junk),
                       lambda: self.lib.verify_sip_url(junk),
                       lambda: self.lib.create_transport(junk),
                       lambda: self.lib.conf_set_tx_level(junk, junk),
                       lambda: self.lib.set_codec_priority(junk, junk),
                       lambda: self.lib.modify_account(junk, junk)]
            if call is not None:
                targets += [lambda: call.answer(junk), lambda: call.hangup(junk, junk, junk),
                            lambda: call.dial_dtmf(junk), lambda: call.send_request(junk, junk),
                            lambda: call.transfer(junk), lambda: call.send_pager(junk)]
            if acc is not None:
                targets += [lambda: acc.make_call(junk),
                            lambda: acc.make_call("sip:a@b", hdr_list=junk),
                            lambda: acc.send_pager(junk, junk), lambda: acc.set_transport(junk)]
            attempt(data.draw(st.sampled_from(targets)))

        @rule(data=st.data(), op=st.sampled_from(["add", "subscribe", "unsubscribe", "delete",
                                                  "send_pager", "info", "typing", "pager",
                                                  "presence"]))
        def presence_and_messages(self, data, op):
            acc = self.pick(data, self.accounts + self.dead)
            buddy = self.pick(data, self.buddies)
            if acc is None:
                return
            if op == "add":
                uri = data.draw(st.sampled_from([peer, uri_of(self.tp, "me"),
                                                 "sip:x@127.0.0.1:9", "not a uri"]))
                attempt(lambda: self.buddies.append(acc.add_buddy(uri, pj.BuddyCallback())))
            elif op == "pager":
                attempt(acc.send_pager, peer, data.draw(st.text(max_size=50)), 1)
            elif op == "presence":
                attempt(acc.set_presence_status, data.draw(st.booleans()),
                        pj.PresenceActivity.BUSY, data.draw(st.text(max_size=20)))
            elif buddy is not None:
                fn = {"subscribe": buddy.subscribe, "unsubscribe": buddy.unsubscribe,
                      "delete": buddy.delete, "info": buddy.info,
                      "send_pager": lambda: buddy.send_pager("hi"),
                      "typing": buddy.send_typing_ind}[op]
                attempt(fn)

        @rule(data=st.data())
        def delete_account(self, data):
            acc = self.pick(data, self.accounts)
            if acc is None:
                return
            attempt(acc.delete)
            self.accounts.remove(acc)
            self.dead.append(acc)

        @rule()
        def add_account(self):
            def go():
                self.accounts.append(ua_account(self.lib, self.tp, "me", set_default=False,
                                                cb=AnsweringAccount(Events())))
            attempt(go)

        @rule(data=st.data())
        def media(self, data):
            def go():
                rid = self.lib.create_recorder(rec)
                slot = self.lib.recorder_get_slot(rid)
                call = self.pick(data, self.calls)
                if call is not None:
                    self.lib.conf_connect(call.info().conf_slot, slot)
                self.lib.recorder_destroy(rid)
                self.lib.recorder_destroy(rid)
            attempt(go)

        @rule()
        def sleep_a_little(self):
            time.sleep(0.02)

        @precondition(lambda self: random.random() < 0.3)
        @rule()
        def destroy_and_restart(self):
            old_calls = list(self.calls)
            attempt(self.lib.destroy)
            for call in old_calls:  # stale objects after destroy
                attempt(call.hangup)
            new_lib()
            self.lib, self.tp = state["lib"], state["tp"]
            self.dead += self.accounts
            self.accounts = [ua_account(self.lib, self.tp, "me", cb=AnsweringAccount(Events()))]

    settings.register_profile("ci", max_examples=n_examples, stateful_step_count=25, deadline=None,
                              suppress_health_check=list(HealthCheck), derandomize=False)
    settings.load_profile("ci")
    Api.TestCase().runTest()
    dog.kick()
    if state["lib"] is not None:
        state["lib"].destroy()
    dog.stop()
    shutil.rmtree(os.path.dirname(rec), ignore_errors=True)
    report(**stats)


def target() -> None:
    """A user agent that answers on stdin's word with a real call (after the hostile
    part) and reports what its callbacks saw."""
    events = Events()
    class Probe(pj.CallCallback):
        def on_state(self):
            events.add(("state", self.call.info().state.name, self.call.info().remote_uri))
    class Acc(pj.AccountCallback):
        def on_incoming_call2(self, call, rdata):
            events.add(("incoming", call.info().remote_uri, len(rdata.msg_info)))
            call.set_callback(Probe())
            call.hangup(486)
        def on_pager(self, from_uri, contact, mime_type, body):
            events.add(("pager", from_uri, mime_type, body))
    lib, (tp,) = ua_lib(max_calls=64)
    _acc = ua_account(lib, tp, "target", cb=Acc())
    print("PORT", tp.info().port, flush=True)
    sys.stdin.readline()  # the test says when the hostile part is over
    # still answers valid requests: a real call from a fresh account on a second transport
    tp2 = lib.create_transport(pj.TransportType.UDP,
                               pj.TransportConfig(0, "127.0.0.1", "127.0.0.1"))
    ev = Events()
    caller = ua_account(lib, tp2, "caller", set_default=False)
    caller.make_call(uri_of(tp, "target"), CallLog(ev))
    ok = ev.wait(lambda i: any(e[:2] == ("state", "DISCONNECTED") for e in i), 10)
    final = [e for e in ev.items if e[0] == "state"][-1]
    report(ok=ok, final=final, events=len(events.items),
           odd=[repr(x) for e in events.items for x in e if not isinstance(x, (str, int, bool))],
           undecodable=sum(1 for e in events.items for x in e
                           if isinstance(x, str) and "\ufffd" in x))
    lib.destroy()


if __name__ == "__main__":
    main(globals())
