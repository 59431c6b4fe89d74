"""Benchmark peer on PJSIP's legacy ``pjsua`` module (see common.py for the protocol).

run.py puts the legacy module, built from pjproject's pjsip-apps/src/python into the
cache, first on ``PYTHONPATH``. Written like this project's peer (ffi_peer.py): the
legacy API is the one pjsua_ffi copies, so the two files differ only where the legacy
module has no equivalent.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CallRec, Tracker, main  # noqa: E402

import pjsua as pj  # noqa: E402

if not hasattr(pj, "_pjsua"):  # pjsua_ffi's compatibility module answered instead
    raise SystemExit(f"legacy_peer: {pj.__file__} is not PJSIP's legacy pjsua module")

LOOPBACK = "127.0.0.1"


class BenchCall(pj.CallCallback):
    def __init__(self, peer: "LegacyStack", rec: CallRec) -> None:
        pj.CallCallback.__init__(self)
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
    def __init__(self, peer: "LegacyStack") -> None:
        pj.AccountCallback.__init__(self)
        self.peer = peer

    def on_incoming_call(self, call: Any) -> None:
        call.set_callback(BenchCall(self.peer, CallRec()))
        call.answer(200)

    def on_pager(self, from_uri: str, contact: str, mime_type: str, body: str) -> None:
        self.peer.tracker.message_received()

    def on_pager_status(self, to_uri: str, body: str, im_id: int, code: int,
                        reason: str) -> None:
        self.peer.tracker.message_status(code)


class LegacyStack:
    def __init__(self) -> None:
        self.lib: Any = None
        self.acc: Optional[Any] = None
        self.audio = False
        self.tracker = Tracker()

    def start(self, port: int, max_calls: int, audio: bool, tracker: Tracker) -> int:
        self.audio, self.tracker = audio, tracker
        lib = self.lib = pj.Lib()
        ua = pj.UAConfig()
        ua.max_calls = max_calls
        media = pj.MediaConfig()
        media.enable_ice = False
        media.no_vad = True
        media.clock_rate = 8000
        media.snd_clock_rate = 8000
        media.snd_auto_close_time = 1
        lib.init(ua_cfg=ua, log_cfg=pj.LogConfig(level=1, console_level=1), media_cfg=media)
        lib.set_null_snd_dev()
        tp = lib.create_transport(pj.TransportType.UDP,
                                  pj.TransportConfig(port, LOOPBACK, LOOPBACK))
        lib.start(with_thread=True)
        lib.set_codec_priority("PCMU", 255)
        sip_port = int(tp.info().port)
        cfg = pj.AccountConfig()
        cfg.id = f"sip:bench@{LOOPBACK}:{sip_port}"
        cfg.transport_id = tp._id
        cfg.rtp_transport_cfg = pj.TransportConfig(0, LOOPBACK, LOOPBACK)
        self.acc = lib.create_account(cfg, cb=BenchAccount(self))
        return sip_port

    def make_call(self, uri: str, rec: CallRec) -> Any:
        assert self.acc is not None
        return self.acc.make_call(uri, BenchCall(self, rec))

    def hangup(self, call: Any) -> None:
        call.hangup()

    def send_message(self, uri: str, seq: int) -> None:
        assert self.acc is not None
        self.acc.send_pager(uri, f"benchmark message {seq}", im_id=seq)


if __name__ == "__main__":
    main(LegacyStack())
