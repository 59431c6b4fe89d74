"""Answer the next call and record what the caller says to a WAV file.

    python record_call.py message.wav --port 5070

The program prints its address, waits for a call, answers it, records until the caller
hangs up, and ends. The file is 16-bit mono PCM at the bridge's clock rate.
"""

from __future__ import annotations

import argparse
import sys
import threading
import wave
from typing import Optional

from common import add_network_args, local_account, say, start_lib

import pjsua_ffi as pj


class Recorder(pj.AccountCallback):
    """Answers one call and sends its audio to the recorder's slot."""

    def __init__(self, lib: pj.Lib, recorder_slot: int) -> None:
        super().__init__()
        self.lib = lib
        self.recorder_slot = recorder_slot
        self.ended = threading.Event()
        self.call: Optional[pj.Call] = None

    def on_incoming_call(self, call: pj.Call) -> None:
        if self.call is not None:
            call.hangup(486, "Busy Here")  # one call is all we record
            return
        self.call = call
        say(f"incoming call from {call.info().remote_uri}")
        call.set_callback(RecordedCall(self))
        call.answer(200)


class RecordedCall(pj.CallCallback):
    """Records the call once its media flows; tells the owner when it ends."""

    def __init__(self, owner: Recorder) -> None:
        super().__init__()
        self.owner = owner

    def on_state(self) -> None:
        info = self.call.info()
        say(f"call {info.state.name} ({info.last_code} {info.last_reason})")
        if info.state == pj.CallState.DISCONNECTED:
            self.owner.ended.set()

    def on_media_state(self) -> None:
        info = self.call.info()
        if info.media_state == pj.MediaState.ACTIVE:
            self.owner.lib.conf_connect(info.conf_slot, self.owner.recorder_slot)
            say("recording")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("wav", help="where to write the recording")
    add_network_args(parser)
    args = parser.parse_args()

    lib, transport = start_lib(args)
    try:
        recorder = lib.create_recorder(args.wav)
        owner = Recorder(lib, lib.recorder_get_slot(recorder))
        account = local_account(lib, transport, args, user="recorder", cb=owner)
        say(f"my address: {account.info().uri}; waiting for a call")
        owner.ended.wait()
        # Destroying the recorder writes the WAV header's final sizes.
        lib.recorder_destroy(recorder)
    finally:
        lib.destroy()
    with wave.open(args.wav, "rb") as w:
        say(f"recorded {w.getnframes() / w.getframerate():.1f} s to {args.wav}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
