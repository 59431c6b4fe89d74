"""Benchmark peer on pjsua_ffi, this project's binding (see common.py for the protocol).

Written the way an application uses the binding: ``Lib`` with its callback thread,
a ``CallCallback`` per call, ``call.info()`` inside callbacks, ``Account.send_pager``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.append(str(Path(__file__).resolve().parents[2]))  # after PYTHONPATH: see run.py

from common import CallRec, Tracker, main  # noqa: E402

import pjsua_ffi as pj  # noqa: E402
from tests.support import ua_account, ua_lib  # noqa: E402


class BenchCall(pj.CallCallback):
    def __init__(self, peer: "FfiStack", rec: CallRec) -> None:
        super().__init__()
        self.peer, self.rec = peer, rec

    def on_state(self) -> None:
        state = self.call.info().state
        if state == pj.CallState.CONFIRMED:
            self.peer.tracker.confirmed(self.rec)
        elif state == pj.CallState.DISCONNECTED:
            self.peer.tracker.disconnected(self.rec)

    def on_media_state(self) -> None:
        info = self.call.info()
        if info.media_state == pj.MediaState.ACTIVE:
            if self.peer.audio:
                self.peer.lib.conf_connect(info.conf_slot, 0)
                self.peer.lib.conf_connect(0, info.conf_slot)
            self.peer.tracker.media_active(self.rec)


class BenchAccount(pj.AccountCallback):
    def __init__(self, peer: "FfiStack") -> None:
        super().__init__()
        self.peer = peer

    def on_incoming_call(self, call: pj.Call) -> None:
        call.set_callback(BenchCall(self.peer, CallRec()))
        call.answer(200)

    def on_pager(self, from_uri: str, contact: str, mime_type: str, body: str) -> None:
        self.peer.tracker.message_received()

    def on_pager_status(self, to_uri: str, body: str, im_id: int, code: int,
                        reason: str) -> None:
        self.peer.tracker.message_status(code)


# ---------------------------------------------------------------- the adapter


class FfiStack:
    def __init__(self) -> None:
        self.lib: Any = None
        self.acc: Optional[pj.Account] = None
        self.audio = False
        self.tracker = Tracker()

    def start(self, port: int, max_calls: int, audio: bool, tracker: Tracker) -> int:
        self.audio, self.tracker = audio, tracker
        self.lib, (tp,) = ua_lib(max_calls=max_calls, log_level=1, port=port,
                                 clock_rate=8000, snd_clock_rate=8000, snd_auto_close_time=1)
        self.lib.set_codec_priority("PCMU", 255)
        self.acc = ua_account(self.lib, tp, "bench", cb=BenchAccount(self))
        return int(tp.info().port)

    def make_call(self, uri: str, rec: CallRec) -> Any:
        assert self.acc is not None
        return self.acc.make_call(uri, BenchCall(self, rec))

    def hangup(self, call: Any) -> None:
        call.hangup()

    def send_message(self, uri: str, seq: int) -> None:
        assert self.acc is not None
        self.acc.send_pager(uri, f"benchmark message {seq}", im_id=seq)


if __name__ == "__main__":
    main(FfiStack())
