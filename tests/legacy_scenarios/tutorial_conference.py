"""A program in the style of the legacy tutorial's conference example: three user
agents in one process; the first calls the other two, plays a WAV file into both calls
and records the conference, printing what happens as such programs do."""

import math
import struct
import time
import wave

import pjsua as pj
from tests.legacy_scenarios.tracer import T, loopback_account, loopback_transport, wait

with wave.open("hello.wav", "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(16000)
    w.writeframes(b"".join(struct.pack("<h", int(6000 * math.sin(i / 7)))
                           for i in range(16000)))

slots = {}
said = {}


def say(who, *words):
    """What a party says, kept per party: the parties' callbacks interleave as the
    scheduler likes, but each party's own order is the library's."""
    said.setdefault(who, []).append(" ".join(map(str, words)))


class Party(pj.CallCallback):
    def __init__(self, name, call=None):
        pj.CallCallback.__init__(self, call)
        self.name = name
        self.done = False

    def on_state(self):
        ci = self.call.info()
        say(self.name, "call is", ci.state_text, "last code =", ci.last_code,
              "(" + ci.last_reason + ")")
        if ci.state == pj.CallState.DISCONNECTED:
            self.done = True

    def on_media_state(self):
        ci = self.call.info()
        if ci.media_state == pj.MediaState.ACTIVE:
            slots[self.name] = ci.conf_slot
            say(self.name, "media is active")


class Answerer(pj.AccountCallback):
    def __init__(self, name, account=None):
        pj.AccountCallback.__init__(self, account)
        self.name = name
        self.calls = []

    def on_incoming_call(self, call):
        say(self.name, "incoming call from", call.info().remote_uri)
        self.calls.append(call)
        call.set_callback(Party(self.name + "<"))
        call.answer(200)


lib = pj.Lib()
try:
    mc = pj.MediaConfig()
    mc.clock_rate = 16000
    lib.init(log_cfg=pj.LogConfig(level=0, console_level=0), media_cfg=mc)
    lib.set_null_snd_dev()
    tps = [loopback_transport(lib) for _ in range(3)]
    lib.start()
    host = loopback_account(lib, tps[0], "host")
    bob_cb, carol_cb = Answerer("bob"), Answerer("carol")
    loopback_account(lib, tps[1], "bob", cb=bob_cb, set_default=False)
    loopback_account(lib, tps[2], "carol", cb=carol_cb, set_default=False)
    to_bob, to_carol = Party("host>bob"), Party("host>carol")
    c1 = host.make_call(f"sip:bob@127.0.0.1:{tps[1].info().port}", cb=to_bob)
    c2 = host.make_call(f"sip:carol@127.0.0.1:{tps[2].info().port}", cb=to_carol)
    wait(lambda: len(slots) == 4)
    player = lib.create_player("hello.wav", loop=True)
    recorder = lib.create_recorder("conference.wav")
    p_slot = lib.player_get_slot(player)
    r_slot = lib.recorder_get_slot(recorder)
    for a in ("host>bob", "host>carol"):
        lib.conf_connect(p_slot, slots[a])
        lib.conf_connect(slots[a], r_slot)
    lib.conf_connect(slots["host>bob"], slots["host>carol"])
    lib.conf_connect(slots["host>carol"], slots["host>bob"])
    print("conference has", len(slots), "call ports")
    time.sleep(1.5)
    level = lib.conf_get_signal_level(slots["bob<"])
    print("bob hears the conference:", level[1] > 0)
    lib.recorder_destroy(recorder)
    lib.player_destroy(player)
    c1.hangup()
    c2.hangup()
    wait(lambda: to_bob.done and to_carol.done)
    time.sleep(0.3)
    with wave.open("conference.wav") as w:
        print("recorded", w.getnframes() > 8000, "frames at", w.getframerate(), "Hz")
    lib.destroy()
    lib = None
    for who in sorted(said):
        print("\n".join(said[who]))
except pj.Error as e:
    print("Exception: " + str(e))
    T.note("error", str(e))
    lib.destroy()
