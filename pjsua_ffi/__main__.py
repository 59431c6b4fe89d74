"""``python -m pjsua_ffi``: ``--version``, ``phone`` (the soft-phone in phone.py) and
``demo``: a real SIP call with audio between two accounts on loopback. The caller plays
a 440 Hz tone, the callee records what it hears, and the demo reports the dominant
frequency of that recording."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time

import pjsua_ffi as pj
from pjsua_ffi import phone
from pjsua_ffi._audio import dominant_frequency, read_wav, rms, write_tone
from pjsua_ffi.buildinfo import version_lines
from pjsua_ffi.pool import add_subcommands

TONE_HZ = 440.0


def step(who: str, text: str) -> None:
    # One write per line: the callback thread and the main thread both report steps.
    sys.stdout.write(f"[{time.strftime('%H:%M:%S')}] {who:<7} {text}\n")
    sys.stdout.flush()


class Party(pj.CallCallback):
    """Logs every state change and wires the call's audio once media is up."""

    def __init__(self, who: str, lib: pj.Lib, slot_to: int = -1, slot_from: int = -1) -> None:
        super().__init__()
        self.who, self.lib = who, lib
        self.slot_to, self.slot_from = slot_to, slot_from
        self.confirmed = threading.Event()
        self.ended = threading.Event()

    def on_state(self) -> None:
        info = self.call.info()
        code = f" ({info.last_code} {info.last_reason})" if info.last_code else ""
        step(self.who, f"call state {info.state.name}{code}")
        if info.state == pj.CallState.CONFIRMED:
            self.confirmed.set()
        if info.state == pj.CallState.DISCONNECTED:
            self.ended.set()

    def on_media_state(self) -> None:
        info = self.call.info()
        step(self.who, f"media {info.media_state.name} on bridge slot {info.conf_slot}")
        if info.media_state == pj.MediaState.ACTIVE:
            if self.slot_from >= 0:
                self.lib.conf_connect(self.slot_from, info.conf_slot)
            if self.slot_to >= 0:
                self.lib.conf_connect(info.conf_slot, self.slot_to)


class Callee(pj.AccountCallback):
    def __init__(self, lib: pj.Lib, record_slot: int) -> None:
        super().__init__()
        self.lib, self.record_slot = lib, record_slot
        self.party: Party | None = None

    def on_incoming_call(self, call: pj.Call) -> None:
        step("callee", f"incoming call from {call.info().remote_uri}")
        self.party = Party("callee", self.lib, slot_to=self.record_slot)
        call.set_callback(self.party)
        call.answer(180)
        call.answer(200)


def demo(seconds: float, srtp: bool = False) -> int:
    workdir = tempfile.mkdtemp(prefix="pjsua-ffi-demo-")
    tone, recording = os.path.join(workdir, "tone.wav"), os.path.join(workdir, "heard.wav")
    write_tone(tone, TONE_HZ, seconds + 2)

    lib = pj.Lib()
    ua = pj.UAConfig()
    ua.max_calls = 8
    media = pj.MediaConfig()
    media.enable_ice = False
    lib.init(ua, pj.LogConfig(level=2, console_level=1), media)
    lib.set_null_snd_dev()
    lib.set_codec_priority("PCMU", 255)
    local = pj.TransportConfig(0, "127.0.0.1", "127.0.0.1")
    tp_a = lib.create_transport(pj.TransportType.UDP, local)
    tp_b = lib.create_transport(pj.TransportType.UDP, local)
    lib.start()
    step("lib", f"pjsua started; transports {tp_a.info().port} and {tp_b.info().port}")

    player = lib.create_player(tone, loop=True)
    recorder = lib.create_recorder(recording)
    callee_cb = Callee(lib, lib.recorder_get_slot(recorder))
    rtp = pj.TransportConfig(0, "127.0.0.1", "127.0.0.1")
    cfg_a = pj.AccountConfig()
    cfg_a.id, cfg_a.transport_id, cfg_a.rtp_transport_cfg = "sip:alice@127.0.0.1", tp_a._id, rtp
    cfg_b = pj.AccountConfig()
    cfg_b.id, cfg_b.transport_id, cfg_b.rtp_transport_cfg = "sip:bob@127.0.0.1", tp_b._id, rtp
    if srtp:
        # SRTP required on both sides (2: mandatory); keys go in plain SDP (no TLS here).
        for cfg in (cfg_a, cfg_b):
            cfg.use_srtp, cfg.srtp_secure_signaling = 2, 0
    alice = lib.create_account(cfg_a)
    lib.create_account(cfg_b, set_default=False, cb=callee_cb)
    step("lib", "accounts alice and bob ready" + (" (SRTP required)" if srtp else ""))

    caller = Party("caller", lib, slot_from=lib.player_get_slot(player))
    uri = f"sip:bob@127.0.0.1:{tp_b.info().port}"
    step("caller", f"calling {uri}")
    call = alice.make_call(uri, caller)
    if not caller.confirmed.wait(5):
        step("caller", "call was not answered")
        lib.destroy()
        return 1
    step("caller", f"talking for {seconds:g} s (a {TONE_HZ:g} Hz tone)")
    time.sleep(seconds)
    call.hangup()
    caller.ended.wait(5)
    lib.recorder_destroy(recorder)
    lib.player_destroy(player)
    lib.destroy()

    samples, rate = read_wav(recording)
    voiced = samples[rate // 2:]  # skip the first half second (jitter buffer warm-up)
    freq = dominant_frequency(voiced, rate) if voiced else 0.0
    level = rms(voiced)
    step("callee", f"recorded {len(samples) / rate:.1f} s, RMS {level:.0f}, "
                   f"dominant frequency {freq:.1f} Hz")
    ok = abs(freq - TONE_HZ) <= TONE_HZ * 0.02 and level > 500
    print("OK: the tone crossed the call" if ok else "FAILED: the tone did not arrive")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pjsua_ffi",
                                     description="pjsua-ffi's demo, soft-phone and worker pool")
    parser.add_argument("--version", action="store_true",
                        help="print the package and pjproject versions and the build's "
                             "optional parts (TLS, SRTP, Opus, sound devices)")
    sub = parser.add_subparsers(dest="cmd")
    d = sub.add_parser("demo", help="a loopback call with audio between two accounts")
    d.add_argument("--seconds", type=float, default=2.0)
    d.add_argument("--srtp", action="store_true", help="require SRTP (encrypted media)")
    p = sub.add_parser("phone", help="an interactive soft-phone",
                       description="An interactive soft-phone: type commands, see events.",
                       epilog=phone.EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    phone.add_arguments(p)
    runners = add_subcommands(sub)  # worker / pool: a pool behind kamailio
    args = parser.parse_args(argv)
    if args.version:
        print("\n".join(version_lines()))
        return 0
    if args.cmd == "demo":
        return demo(args.seconds, args.srtp)
    if args.cmd == "phone":
        return phone.main(args)
    if args.cmd in runners:
        return runners[args.cmd](args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
