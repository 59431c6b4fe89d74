"""Scenarios of tests/test_phone.py (the command line; each runs in its own process)."""

from __future__ import annotations

import pjsua_ffi as pj
from tests.scenarios import main
from tests.support import (
    report,
)


def version_states_what_the_build_holds() -> None:
    lib = pj.Lib()
    lib.init(log_cfg=pj.LogConfig(level=0, console_level=0))
    try:
        lib.create_transport(pj.TransportType.TLS, pj.TransportConfig(0, "127.0.0.1"))
        tls = True
    except pj.Error:
        tls = False
    codecs = [c.name.lower() for c in lib.enum_codecs()]
    report(tls=tls, opus=any(c.startswith("opus/") for c in codecs), version=pj.__version__)
    lib.destroy()


if __name__ == "__main__":
    main(globals())
