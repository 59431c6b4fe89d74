"""The one place where a trace's volatile values are made comparable.

Ports the OS chose, Call-IDs, tags, branches, CSeq numbers, SDP session numbers, times,
and C pointers differ from one run to the next in either implementation; everything else
in a trace must be equal. Ports become ``PORT1``, ``PORT2``, ... in order of first
appearance, so a trace still shows which port is which.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

# Fields whose values are times or counters that vary from run to run.
TIME_FIELDS = {"call_time", "total_time"}
CALL_ID_FIELDS = {"sip_call_id"}
PORT_FIELDS = {"port"}
COUNTDOWN_FIELDS = {"reg_expires"}  # seconds left: only whether it is positive counts

_HOSTPORT = re.compile(r"(127\.0\.0\.1|\[::1\]|localhost)(:|\s+port\s+)(\d{2,5})")
_PORT_PARAMS = re.compile(r"\b(rport=|m=audio |m=text |a=rtcp:)(\d{2,5})")
_SUBS = [
    # The default repr of an object: where it lives in memory and which module defines
    # its class (pjsua vs pjsua_ffi.config) are not behaviour.
    (re.compile(r"<(?:[\w.]+\.)?(\w+) object at 0x[0-9a-fA-F]+>"), r"<\1 object>"),
    (re.compile(r"(Replaces=)[^>;&\s\"']+"), r"\1X"),
    (re.compile(r"\b(tag|branch)=[^;>\s\"',]+"), r"\1=X"),
    (re.compile(r"(Call-ID:|i:)[ \t]*[^\r\n]+"), r"\1 CALLID"),
    (re.compile(r"(CSeq:|cseq=)[ \t]*\d+"), r"\1 N"),
    (re.compile(r"(Content-Length:|l:)[ \t]*\d+"), r"\1 N"),
    (re.compile(r"\bo=(\S+) \d+ \d+"), r"o=\1 N N"),
    (re.compile(r"0x[0-9a-fA-F]+"), "0xADDR"),
    (re.compile(r"\b\d\d:\d\d:\d\d\.\d{3}\b"), "TIME"),
    (re.compile(r"(Expires:|expires=)[ \t]*\d+"), r"\1 N"),
    (re.compile(r"(\bnonce|cnonce|response|opaque)=\"[^\"]*\""), r'\1="X"'),
]


class Normaliser:
    """Rewrites one trace; the port map lives as long as the trace."""

    def __init__(self) -> None:
        self.ports: Dict[str, str] = {}

    def port(self, value: str) -> str:
        if value in ("0", "5060"):
            return value
        return self.ports.setdefault(value, f"PORT{len(self.ports) + 1}")

    def text(self, s: str) -> str:
        s = _HOSTPORT.sub(lambda m: m.group(1) + m.group(2) + self.port(m.group(3)), s)
        s = _PORT_PARAMS.sub(lambda m: m.group(1) + self.port(m.group(2)), s)
        for pattern, repl in _SUBS:
            s = pattern.sub(repl, s)
        return s

    def value(self, v: Any, key: str = "") -> Any:
        if isinstance(v, dict):
            return {k: self.value(x, k) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x, key) for x in v]
        if not isinstance(v, str):
            return v
        if key in TIME_FIELDS:
            return "TIME"
        if key in CALL_ID_FIELDS:
            return "'CALLID'" if v not in ("''",) else v
        if key in COUNTDOWN_FIELDS and v.isdigit() and int(v) > 0:
            return "POSITIVE"
        if key in PORT_FIELDS and v.isdigit():
            return self.port(v)
        return self.text(v)


def normalise(records: List[Dict[str, Any]]) -> Dict[str, List[Any]]:
    """Group a trace's records by channel (in their order) and normalise them; the
    channels are visited in name order so that ports are numbered alike."""
    channels: Dict[str, List[Any]] = {}
    for rec in records:
        channels.setdefault(rec["ch"], []).append(rec["r"])
    n = Normaliser()
    return {ch: [n.value(r) for r in channels[ch]] for ch in sorted(channels)}


# Deliberate differences (pjsua_ffi/_differences.py) that show in a trace, each undone
# here for exactly what it changes: the legacy side notes its own ("difference" records,
# e.g. a legacy bug the program hit); ours' are found by rule.
_ACCEPTED, _PENDING = "2", "3"  # SubscriptionState values, as a trace holds them


def _pending_notify(records: List[Any]) -> List[Any]:
    """Ours sends a watcher PENDING at once after a 202 (the difference "pending-notify"):
    a buddy's ``on_state`` then reports PENDING right after ACCEPTED, which legacy never
    does unless the program notifies PENDING itself. Drops that one callback's lines."""
    out: List[Any] = []
    prev_state, prev_call, dropping = None, None, None
    for r in records:
        state, call = r[1], r[2]
        if call != prev_call:
            dropping = call if state == _PENDING and prev_state == _ACCEPTED else None
            prev_state, prev_call = state, call
        if call != dropping:
            out.append(r)
    return out


def deliberate(channels: Dict[str, List[Any]], mode: str) -> List[str]:
    """Undo in ``channels`` (one normalised trace; changed in place) the deliberate
    differences that show in it; returns their keys."""
    keys: List[str] = []
    for ch in [c for c in channels if c.endswith(":difference")]:
        keys += [str(r[0]).strip("'") for r in channels.pop(ch)]
    for ch, records in channels.items():
        if ":stdout " not in ch:
            continue
        if mode == "ours" and ch.endswith(".on_state"):
            kept = _pending_notify(records)
            if kept != records:
                records = kept
                keys.append("pending-notify")
        # A sample's callback line: its text and state are compared; the number of the
        # callback run that printed it only told the runs apart.
        channels[ch] = [r[:2] for r in records]
    return keys
