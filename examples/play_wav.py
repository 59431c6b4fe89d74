"""Call someone and play a WAV file to them; hang up when the file ends.

    python play_wav.py sip:bob@127.0.0.1:5070 greeting.wav

The file should be 16-bit mono PCM; pjsua resamples it to the bridge's clock rate.
"""

from __future__ import annotations

import argparse
import sys
import threading

from common import add_network_args, local_account, say, start_lib

import pjsua_ffi as pj


class Playback(pj.CallCallback):
    """Connects the player to the call once media flows; remembers when the call ends."""

    def __init__(self, lib: pj.Lib, player_slot: int) -> None:
        super().__init__()
        self.lib = lib
        self.player_slot = player_slot
        self.ended = threading.Event()

    def on_state(self) -> None:
        info = self.call.info()
        say(f"call {info.state.name} ({info.last_code} {info.last_reason})")
        if info.state == pj.CallState.DISCONNECTED:
            self.ended.set()

    def on_media_state(self) -> None:
        info = self.call.info()
        if info.media_state == pj.MediaState.ACTIVE:
            # A re-INVITE can move the call to another slot: connect on every change.
            self.lib.conf_connect(self.player_slot, info.conf_slot)
            say("playing")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("uri", help="whom to call")
    parser.add_argument("wav", help="the WAV file to play")
    add_network_args(parser)
    args = parser.parse_args()

    lib, transport = start_lib(args)
    try:
        account = local_account(lib, transport, args, user="player")
        finished = threading.Event()
        # The bridge reads a player only while it is connected, so the file starts when
        # the call's media does. on_eof runs on the library's callback thread.
        player = lib.create_player(args.wav, loop=True, on_eof=lambda _pid: finished.set())
        cb = Playback(lib, lib.player_get_slot(player))
        call = account.make_call(args.uri, cb)
        while not finished.wait(0.1):
            if cb.ended.is_set():
                say("the call ended before the file did")
                return 1
        say("end of file: hanging up")
        call.hangup()
        cb.ended.wait(10)
        lib.player_destroy(player)
        return 0
    finally:
        lib.destroy()


if __name__ == "__main__":
    sys.exit(main())
