"""A three-party conference: call two (or more) people, join everyone's audio, and
record the whole conversation.

    python conference.py sip:bob@127.0.0.1:5070 sip:carol@127.0.0.1:5080 \\
        --record meeting.wav --seconds 30

pjsua's conference bridge mixes audio: each call is a slot, and connecting slot A to
slot B sends A's audio to B. Everyone hears everyone else (never themselves), this
program's user speaks and listens through the sound device (slot 0), and the recorder
hears it all.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import Dict, List

from common import add_network_args, local_account, say, start_lib

import pjsua_ffi as pj


class Conference:
    """The bridge slots in the conference; joins each new slot to all the others."""

    def __init__(self, lib: pj.Lib, recorder_slot: int) -> None:
        self.lib = lib
        self.recorder_slot = recorder_slot
        self.lock = threading.Lock()
        self.slots: Dict[str, int] = {"me": 0}   # who -> slot; slot 0: the sound device

    def join(self, who: str, slot: int) -> None:
        with self.lock:
            self.slots[who] = slot
            for other, other_slot in self.slots.items():
                if other != who:
                    self.lib.conf_connect(slot, other_slot)
                    self.lib.conf_connect(other_slot, slot)
            self.lib.conf_connect(slot, self.recorder_slot)
        say(f"{who} joined the conference")

    def leave(self, who: str) -> None:
        with self.lock:
            self.slots.pop(who, None)  # the bridge drops a closed call's connections


class Member(pj.CallCallback):
    """One callee: joins the conference when its media flows."""

    def __init__(self, who: str, conference: Conference) -> None:
        super().__init__()
        self.who = who
        self.conference = conference
        self.answered = threading.Event()
        self.ended = threading.Event()

    def on_state(self) -> None:
        info = self.call.info()
        say(f"{self.who}: call {info.state.name} ({info.last_code} {info.last_reason})")
        if info.state == pj.CallState.CONFIRMED:
            self.answered.set()
        elif info.state == pj.CallState.DISCONNECTED:
            self.conference.leave(self.who)
            self.ended.set()
            self.answered.set()

    def on_media_state(self) -> None:
        info = self.call.info()
        if info.media_state == pj.MediaState.ACTIVE:
            self.conference.join(self.who, info.conf_slot)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("uris", nargs="+", help="whom to call")
    parser.add_argument("--record", required=True, help="the WAV file for the recording")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to talk")
    add_network_args(parser)
    args = parser.parse_args()

    lib, transport = start_lib(args, max_calls=len(args.uris) + 1)
    try:
        recorder = lib.create_recorder(args.record)
        conference = Conference(lib, lib.recorder_get_slot(recorder))
        account = local_account(lib, transport, args, user="conference")
        members: List[Member] = []
        calls: List[pj.Call] = []
        for uri in args.uris:
            member = Member(uri, conference)
            calls.append(account.make_call(uri, member))
            members.append(member)
        for member in members:
            member.answered.wait(30)
        if any(m.ended.is_set() or not m.answered.is_set() for m in members):
            say("not everyone answered")
            return 1
        say(f"everyone is here; talking for {args.seconds:g} s")
        time.sleep(args.seconds)
        lib.hangup_all()
        for member in members:
            member.ended.wait(10)
        lib.recorder_destroy(recorder)
        say(f"recorded the conference to {args.record}")
        return 0
    finally:
        lib.destroy()


if __name__ == "__main__":
    sys.exit(main())
