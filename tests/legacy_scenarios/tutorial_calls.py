"""The legacy Python SIP tutorial's first programs, as a user following its pages
writes them (our own code): start the library ("hello world"), a user-less account per
transport, an outgoing call with a CallCallback, an incoming call taken in
AccountCallback.on_incoming_call (callback set, answered), the media connected to the
sound device when active, a hang-up, and the disconnection handled. The main program
prints what it waits for; each callback object writes its own channel."""

import threading

import pjsua as pj
from tests.legacy_scenarios.tracer import T


def log_cb(level, text, length):  # the tutorial logs through a callback
    pass


class MyCallCallback(pj.CallCallback):
    def __init__(self, name, call=None):
        pj.CallCallback.__init__(self, call)
        self.name = name
        self.confirmed = threading.Event()
        self.disconnected = threading.Event()

    def on_state(self):
        ci = self.call.info()
        T.ev(self.name, "Call is", ci.state_text, "last code =", ci.last_code,
             "(" + ci.last_reason + ")")
        if ci.state == pj.CallState.CONFIRMED:
            self.confirmed.set()
        if ci.state == pj.CallState.DISCONNECTED:
            self.disconnected.set()

    def on_media_state(self):
        if self.call.info().media_state == pj.MediaState.ACTIVE:
            slot = self.call.info().conf_slot
            pj.Lib.instance().conf_connect(slot, 0)
            pj.Lib.instance().conf_connect(0, slot)
            T.ev(self.name, "Media is now active")
        else:
            T.ev(self.name, "Media is inactive")


class MyAccountCallback(pj.AccountCallback):
    def __init__(self, account=None):
        pj.AccountCallback.__init__(self, account)
        self.call_cb = None

    def on_incoming_call(self, call):
        T.ev("incoming", "Incoming call from", call.info().remote_uri)
        self.call_cb = MyCallCallback("callee")
        call.set_callback(self.call_cb)
        call.answer(200)


lib = pj.Lib()
try:
    lib.init(log_cfg=pj.LogConfig(level=3, console_level=0, callback=log_cb))
    lib.set_null_snd_dev()  # no sound card here: the tutorial's "sound device" is null
    t1 = lib.create_transport(pj.TransportType.UDP, pj.TransportConfig(0, "127.0.0.1"))
    t2 = lib.create_transport(pj.TransportType.UDP, pj.TransportConfig(0, "127.0.0.1"))
    lib.start()
    print("Hello world: listening on", t1.info().host)
    caller = lib.create_account_for_transport(t1)
    cfg = pj.AccountConfig()  # the tutorial's account page: an identity of our own
    cfg.id = f"sip:callee@127.0.0.1:{t2.info().port}"
    cfg.transport_id = t2._id
    callee_cb = MyAccountCallback()
    callee = lib.create_account(cfg, cb=callee_cb)
    print("Accounts:", caller.info().uri.startswith("<sip:127.0.0.1"),
          callee.info().uri)
    # A call to a user nobody is reaches the account of that transport, whose
    # AccountCallback is the default one: it rejects the call.
    try:
        first_cb = MyCallCallback("rejected")
        caller.make_call(f"sip:nobody@127.0.0.1:{t1.info().port}", cb=first_cb)
    except pj.Error as err:
        print("Error making outgoing call:", err)
    print("Rejected:", first_cb.disconnected.wait(10))
    try:
        my_cb = MyCallCallback("caller")
        call = caller.make_call(f"sip:callee@127.0.0.1:{t2.info().port}", cb=my_cb)
    except pj.Error as err:
        print("Error making outgoing call:", err)
        raise
    print("Confirmed:", my_cb.confirmed.wait(10))
    print("Hanging up")
    call.hangup()
    print("Disconnected:", my_cb.disconnected.wait(10),
          callee_cb.call_cb is not None and callee_cb.call_cb.disconnected.wait(10))
    T.call("is_valid()", call.is_valid)
    lib.destroy()
    lib = None
except pj.Error as e:
    print("Exception: " + str(e))
    lib.destroy()
    lib = None
