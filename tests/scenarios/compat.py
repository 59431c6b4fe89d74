"""Scenarios of tests/test_compat.py (each runs in its own process)."""

from __future__ import annotations

import sys
import threading
import time
from typing import List, Optional

import pjsua as pj
from tests.scenarios import main


def a_legacy_style_program_runs_unchanged() -> None:
    """Written as a program for the legacy module is (through ``import pjsua``)."""
    done = threading.Event()
    states: List[str] = []

    class MyCallCallback(pj.CallCallback):
        def __init__(self, call=None):
            pj.CallCallback.__init__(self, call)

        def on_state(self):
            states.append(self.call.info().state_text)
            if self.call.info().state == pj.CallState.DISCONNECTED:
                done.set()

        def on_media_state(self):
            if self.call.info().media_state == pj.MediaState.ACTIVE:
                call_slot = self.call.info().conf_slot
                pj.Lib.instance().conf_connect(call_slot, 0)
                pj.Lib.instance().conf_connect(0, call_slot)

    class MyAccountCallback(pj.AccountCallback):
        def __init__(self, account=None):
            pj.AccountCallback.__init__(self, account)

        def on_incoming_call(self, call):
            call.set_callback(MyCallCallback(call))
            call.answer(200)

    lib: Optional[pj.Lib] = pj.Lib()
    assert lib is not None
    try:
        mc = pj.MediaConfig()
        mc.enable_ice = False
        lib.init(log_cfg=pj.LogConfig(level=1, callback=lambda lv, s, n: None), media_cfg=mc)
        lib.set_null_snd_dev()
        transport = lib.create_transport(pj.TransportType.UDP,
                                         pj.TransportConfig(0, "127.0.0.1", "127.0.0.1"))
        lib.start()
        acc = lib.create_account_for_transport(transport, cb=MyAccountCallback())
        lck = lib.auto_lock()
        call = acc.make_call("sip:me@127.0.0.1:%d" % transport.info().port,  # noqa: UP031
                             MyCallCallback())
        del lck
        time.sleep(1)
        call.hangup()
        done.wait(5)
        lib.destroy()
        lib = None
    except pj.Error as e:
        print("Exception: " + str(e))
        if lib is not None:
            lib.destroy()
        sys.exit(1)
    print("STATES", states)


if __name__ == "__main__":
    main(globals())
