"""An interactive call menu: make, answer, hold and hang up one call at a time.

    python call_menu.py --bind 127.0.0.1 --port 5070

Then type a command and Enter:

    m URI     make a call          a         answer the ringing call
    h         hang up              H / v     hold / resume
    d DIGITS  send DTMF digits     q         quit
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Optional

from common import add_network_args, local_account, say, start_lib

import pjsua_ffi as pj

MENU = __doc__.split("Then type a command and Enter:\n")[1].rstrip()


class Phone(pj.AccountCallback):
    """The account's callback; it also keeps the one current call.

    pjsua runs callbacks on its callback thread and the menu reads the keyboard on the
    main thread; ``current`` is shared, so it is guarded by a lock.
    """

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.current: Optional[pj.Call] = None

    def on_incoming_call(self, call: pj.Call) -> None:
        with self.lock:
            busy = self.current is not None
            if not busy:
                self.current = call
        if busy:
            say(f"busy: rejecting a call from {call.info().remote_uri}")
            call.hangup(486, "Busy Here")
            return
        call.set_callback(CallEvents(self))
        call.answer(180)
        say(f"incoming call from {call.info().remote_uri}: type a to answer")

    def ended(self, call: pj.Call) -> None:
        with self.lock:
            if self.current == call:
                self.current = None

    def call_or_complain(self) -> Optional[pj.Call]:
        with self.lock:
            if self.current is None:
                say("no call")
            return self.current


class CallEvents(pj.CallCallback):
    """Prints one call's events and plugs it into the sound device."""

    def __init__(self, phone: Phone) -> None:
        super().__init__()
        self.phone = phone

    def on_state(self) -> None:
        info = self.call.info()
        if info.state == pj.CallState.DISCONNECTED:
            self.phone.ended(self.call)  # first: the next command may come at once
        say(f"call {info.state.name} ({info.last_code} {info.last_reason})")

    def on_media_state(self) -> None:
        info = self.call.info()
        say(f"media {info.media_state.name}")
        if info.media_state == pj.MediaState.ACTIVE:
            lib = pj.Lib.instance()
            assert lib is not None
            lib.conf_connect(info.conf_slot, 0)
            lib.conf_connect(0, info.conf_slot)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_network_args(parser)
    args = parser.parse_args()

    lib, transport = start_lib(args)
    phone = Phone()
    account = local_account(lib, transport, args, user="menu", cb=phone)
    say(f"my address: {account.info().uri}")
    say(MENU)
    try:
        for line in sys.stdin:
            cmd, _, arg = line.strip().partition(" ")
            try:
                if cmd == "m" and arg:
                    with phone.lock:
                        if phone.current is not None:
                            say("hang up first")
                            continue
                        # Holding the lock while make_call runs keeps a callback from
                        # seeing the call before it is our current one.
                        phone.current = account.make_call(arg.strip(), CallEvents(phone))
                elif cmd == "q":
                    break
                elif cmd in ("a", "h", "H", "v", "d"):
                    call = phone.call_or_complain()
                    if call is None:
                        continue
                    if cmd == "a":
                        call.answer(200)
                    elif cmd == "h":
                        call.hangup()
                    elif cmd == "H":
                        call.hold()
                    elif cmd == "v":
                        call.unhold()
                    elif arg:
                        call.dial_dtmf(arg.strip())
                        say(f"sent DTMF {arg.strip()}")
                elif cmd:
                    say(f"unknown command {cmd!r}\n{MENU}")
            except pj.Error as err:
                # A failed request (a bad URI, hold with no media) is reported, not fatal.
                say(f"error: {err}")
    finally:
        lib.destroy()
    say("bye")
    return 0


if __name__ == "__main__":
    sys.exit(main())
