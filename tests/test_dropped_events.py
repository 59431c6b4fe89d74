"""Events that C drops when its queue is full are reported: a warning and
``Lib.dropped_events``."""

from __future__ import annotations

from support import run_scenario

# No callback thread, and the library called from inside a callback: the events its
# calls raise (two log lines for the log callback per conf_connect/conf_disconnect pair
# at level 5) wait in C until that callback returns, so the queue (200 000 events)
# fills up. (An API call made outside a callback delivers its own events before it
# returns.)
OVERFLOW = """
import logging, os, tempfile
import pjsua_ffi as pj
from pjsua_ffi._audio import write_tone
from tests.support import report

warnings = []

class Keep(logging.Handler):
    def emit(self, record):
        if record.levelno == logging.WARNING and record.name == "pjsua_ffi":
            warnings.append(record.getMessage())

logging.getLogger("pjsua_ffi").addHandler(Keep())
lines = []
state = {"armed": False, "pairs": 0, "dropped": 0, "mark": 0}

def on_log(level, text, n):
    lines.append(text)
    if state["armed"]:
        state["armed"] = False
        state["mark"] = len(lines)
        while lib.dropped_events == 0 and state["pairs"] < 400000:
            lib.conf_connect(slot, 0)
            lib.conf_disconnect(slot, 0)
            state["pairs"] += 1
        state["dropped"] = lib.dropped_events

lib = pj.Lib()
media = pj.MediaConfig()
media.enable_ice = False
lib.init(log_cfg=pj.LogConfig(level=5, console_level=5, callback=on_log), media_cfg=media)
lib.set_null_snd_dev()
lib.start(with_thread=False)
wav = os.path.join(tempfile.mkdtemp(), "tone.wav")
write_tone(wav, 440, 0.5)
slot = lib.player_get_slot(lib.create_player(wav, loop=True))
before = lib.dropped_events
inline = len(lines)
lib.conf_connect(slot, 0)  # outside a callback: its log lines come before it returns
inline = len(lines) - inline
state["armed"] = True
lib.conf_disconnect(slot, 0)  # its first log line runs the callback above
delivered = 0
while True:
    n = lib.handle_events(0)
    if not n:
        break
    delivered += n
queued_lines = len(lines) - state["mark"]
lib.conf_connect(slot, 0)  # after the overflow, events flow again
lib.handle_events(0)
pairs, dropped = state["pairs"], state["dropped"]
report(before=before, dropped=dropped, delivered=delivered, queued_lines=queued_lines,
       after=len(lines) - queued_lines - state["mark"], warnings=warnings, pairs=pairs,
       inline=inline)
lib.destroy()
"""


def test_a_full_event_queue_is_reported() -> None:
    r = run_scenario(OVERFLOW, timeout=240)
    assert r["before"] == 0
    assert r["pairs"] < 400000 and r["dropped"] > 0
    assert r["warnings"] and all("events dropped" in w for w in r["warnings"])
    counted = sum(int(w.split()[0]) for w in r["warnings"])
    assert counted == r["dropped"]
    # What was queued before the queue filled up still reached the callback, in full.
    assert r["queued_lines"] >= 200000 - 64
    assert r["after"] >= 1
    assert r["inline"] >= 1
