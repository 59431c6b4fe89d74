"""Benchmark peer on PJSUA2, pjproject's official SWIG binding, from the
``pjsua2-python`` wheel (see common.py for the protocol).

The wheel brings its own pjproject build (not ours): its compile-time limits, such as
PJSUA_MAX_CALLS, are the stock ones, which the ramp workload runs into.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pjsua2 as pj  # noqa: E402
from common import CallRec, Tracker, main  # noqa: E402

LOOPBACK = "127.0.0.1"


def _call_setting(opt: Any) -> None:
    opt.audioCount = 1
    opt.videoCount = 0
    if hasattr(opt, "textCount"):  # pjproject 2.17 and later: no RFC 4103 text stream
        opt.textCount = 0


class BenchCall(pj.Call):
    def __init__(self, peer: "Pjsua2Stack", acc: pj.Account, rec: CallRec,
                 call_id: int = pj.PJSUA_INVALID_ID) -> None:
        pj.Call.__init__(self, acc, call_id)
        self.peer, self.rec = peer, rec

    def onCallState(self, prm: Any) -> None:  # noqa: N802  (PJSUA2's name)
        state = self.getInfo().state
        if state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.peer.tracker.confirmed(self.rec)
        elif state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.peer.tracker.disconnected(self.rec)
            # PJSUA2 allows deleting the call from this callback.
            self.peer.incoming.pop(self.getId(), None)

    def onCallMediaState(self, prm: Any) -> None:  # noqa: N802
        info = self.getInfo()
        for mi in info.media:
            if mi.type == pj.PJMEDIA_TYPE_AUDIO and mi.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                if self.peer.audio:
                    am = self.getAudioMedia(mi.index)
                    mgr = self.peer.ep.audDevManager()
                    mgr.getCaptureDevMedia().startTransmit(am)
                    am.startTransmit(mgr.getPlaybackDevMedia())
                self.peer.tracker.media_active(self.rec)
                return


class BenchAccount(pj.Account):
    def __init__(self, peer: "Pjsua2Stack") -> None:
        pj.Account.__init__(self)
        self.peer = peer

    def onIncomingCall(self, prm: Any) -> None:  # noqa: N802
        call = BenchCall(self.peer, self, CallRec(), prm.callId)
        self.peer.incoming[prm.callId] = call
        op = pj.CallOpParam()
        op.statusCode = 200
        _call_setting(op.opt)
        call.answer(op)

    def onInstantMessage(self, prm: Any) -> None:  # noqa: N802
        self.peer.tracker.message_received()

    def onInstantMessageStatus(self, prm: Any) -> None:  # noqa: N802
        self.peer.tracker.message_status(int(prm.code))


class Pjsua2Stack:
    def __init__(self) -> None:
        self.ep: Any = None
        self.acc: Optional[BenchAccount] = None
        self.buddies: Dict[str, Any] = {}
        self.incoming: Dict[int, BenchCall] = {}
        self.audio = False
        self.tracker = Tracker()

    def start(self, port: int, max_calls: int, audio: bool, tracker: Tracker) -> int:
        self.audio, self.tracker = audio, tracker
        ep = self.ep = pj.Endpoint()
        ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.maxCalls = max_calls
        cfg.logConfig.level = 1
        cfg.logConfig.consoleLevel = 1
        cfg.medConfig.clockRate = 8000
        cfg.medConfig.sndClockRate = 8000
        cfg.medConfig.noVad = True
        cfg.medConfig.sndAutoCloseTime = 1
        cfg.medConfig.maxMediaPorts = max_calls + 64
        ep.libInit(cfg)
        ep.audDevManager().setNullDev()
        tcfg = pj.TransportConfig()
        tcfg.port = port
        tcfg.boundAddress = LOOPBACK
        tcfg.publicAddress = LOOPBACK
        tp_id = ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        ep.libStart()
        ep.codecSetPriority("PCMU", 255)
        sip_port = int(ep.transportGetInfo(tp_id).localName.rsplit(":", 1)[1])
        acfg = pj.AccountConfig()
        acfg.idUri = f"sip:bench@{LOOPBACK}:{sip_port}"
        acfg.sipConfig.transportId = tp_id
        acfg.mediaConfig.transportConfig.port = 0
        acfg.mediaConfig.transportConfig.boundAddress = LOOPBACK
        acfg.mediaConfig.transportConfig.publicAddress = LOOPBACK
        acfg.mediaConfig.ipv6Use = pj.PJSUA_IPV6_DISABLED  # no DNS look-up per call
        acfg.natConfig.iceEnabled = False
        self.acc = BenchAccount(self)
        self.acc.create(acfg, True)
        return sip_port

    def make_call(self, uri: str, rec: CallRec) -> Any:
        call = BenchCall(self, self.acc, rec)
        op = pj.CallOpParam(True)
        _call_setting(op.opt)
        call.makeCall(uri, op)
        return call

    def hangup(self, call: Any) -> None:
        call.hangup(pj.CallOpParam())

    def send_message(self, uri: str, seq: int) -> None:
        # PJSUA2 sends MESSAGEs outside calls through a Buddy.
        buddy = self.buddies.get(uri)
        if buddy is None:
            bcfg = pj.BuddyConfig()
            bcfg.uri = uri
            bcfg.subscribe = False
            buddy = pj.Buddy()
            buddy.create(self.acc, bcfg)
            self.buddies[uri] = buddy
        prm = pj.SendInstantMessageParam()
        prm.content = f"benchmark message {seq}"
        buddy.sendInstantMessage(prm)


if __name__ == "__main__":
    main(Pjsua2Stack())
