"""Call a SIP address, talk through the sound device for a few seconds, hang up.

    python simple_call.py sip:bob@sip.example.org --seconds 10
    python simple_call.py sip:bob@127.0.0.1:5070 --bind 127.0.0.1

With no sound device (a server, a container) the call runs on the null device: the
call and its RTP are real, there is just nothing to hear.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

from common import add_network_args, local_account, say, start_lib

import pjsua_ffi as pj


class ShowCall(pj.CallCallback):
    """Prints each state change; connects the call to the sound device once media flows."""

    def __init__(self) -> None:
        super().__init__()
        self.confirmed = threading.Event()
        self.ended = threading.Event()

    def on_state(self) -> None:
        info = self.call.info()
        say(f"call {info.state.name} ({info.last_code} {info.last_reason})")
        if info.state == pj.CallState.CONFIRMED:
            self.confirmed.set()
        elif info.state == pj.CallState.DISCONNECTED:
            self.ended.set()
            self.confirmed.set()  # wakes the main thread if the call never got answered

    def on_media_state(self) -> None:
        info = self.call.info()
        say(f"media {info.media_state.name}")
        if info.media_state == pj.MediaState.ACTIVE:
            # Slot 0 of the conference bridge is the sound device (or the null device).
            lib = pj.Lib.instance()
            assert lib is not None
            lib.conf_connect(info.conf_slot, 0)
            lib.conf_connect(0, info.conf_slot)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("uri", help="whom to call, e.g. sip:bob@example.org")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to talk")
    add_network_args(parser)
    args = parser.parse_args()

    lib, transport = start_lib(args)
    try:
        account = local_account(lib, transport, args, user="caller")
        cb = ShowCall()
        say(f"calling {args.uri}")
        call = account.make_call(args.uri, cb)
        cb.confirmed.wait(30)
        if cb.ended.is_set() or not cb.confirmed.is_set():
            say("the call was not answered")
            return 1
        time.sleep(args.seconds)
        say("hanging up")
        call.hangup()
        cb.ended.wait(10)
        return 0
    finally:
        lib.destroy()


if __name__ == "__main__":
    sys.exit(main())
