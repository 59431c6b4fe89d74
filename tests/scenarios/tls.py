"""Scenarios of tests/test_tls.py. ``pki`` arguments are the JSON of the test CA's
files (tests/secure_support.make_pki); TLS settings are JSON objects of make_tls()'s
keywords."""

from __future__ import annotations

import json
import socket
from typing import Any, Dict

import pjsua_ffi as pj
from tests.scenarios import main
from tests.secure_support import make_tls
from tests.support import AnsweringAccount, CallLog, Events, report, ua_account, ua_lib, uri_of


def failure(pki: str, srv: str, cli: str) -> None:
    """One process, two TLS transports: "srv" answers, "cli" calls it with its own
    settings."""
    p = json.loads(pki)
    lib = pj.Lib()
    mc = pj.MediaConfig()
    mc.enable_ice = False
    lib.init(pj.UAConfig(), pj.LogConfig(level=1, console_level=1), mc)
    lib.set_null_snd_dev()

    def transport(tls: pj.TLSSetting) -> pj.Transport:
        cfg = pj.TransportConfig(0, "127.0.0.1", "127.0.0.1")
        cfg.tls_setting = tls
        return lib.create_transport(pj.TransportType.TLS, cfg)

    srv_tp = transport(make_tls(p, **json.loads(srv)))
    cli_tp = transport(make_tls(p, **json.loads(cli)))
    lib.start()
    ev_srv, ev_cli = Events(), Events()
    ua_account(lib, srv_tp, "srv", cb=AnsweringAccount(ev_srv), set_default=False)
    cli_acc = ua_account(lib, cli_tp, "cli")
    call = cli_acc.make_call(uri_of(srv_tp, "srv"), CallLog(ev_cli))
    ev_cli.wait(lambda items: any(e[:2] in (("state", "DISCONNECTED"), ("state", "CONFIRMED"))
                                  for e in items), 15)
    if any(e[:2] == ("state", "CONFIRMED") for e in ev_cli.items):
        call.hangup()
        ev_cli.wait(lambda items: any(e[:2] == ("state", "DISCONNECTED") for e in items), 5)
    report(cli=ev_cli.items, srv=[e[:2] for e in ev_srv.items], failures=lib.tls_failures())
    lib.destroy()


def bad_input(pki: str, missing: str, garbage: str, folder: str) -> None:
    p = json.loads(pki)
    lib = pj.Lib()
    lib.init(pj.UAConfig(), pj.LogConfig(level=1, console_level=1), pj.MediaConfig())
    out: Dict[str, Any] = {}

    def attempt(name: str, tls: Any, port: int = 0) -> None:
        cfg = pj.TransportConfig(port, "127.0.0.1", "127.0.0.1")
        cfg.tls_setting = tls
        try:
            lib.create_transport(pj.TransportType.TLS, cfg)
            out[name] = "created"
        except pj.Error as exc:
            out[name] = ["Error", exc.err_code, str(exc)]
        except (ValueError, TypeError) as exc:
            out[name] = [type(exc).__name__, 0, str(exc)]

    attempt("missing_cert", make_tls(p, cert="server", cert_file=missing))
    attempt("garbage_cert", make_tls(p, cert="server", cert_file=garbage))
    attempt("cert_is_a_folder", make_tls(p, cert="server", cert_file=folder))
    attempt("wrong_password", make_tls(p, cert="server", password="wrong"))
    attempt("key_of_another_cert", make_tls(p, cert="server", privkey_file=p["client_key"]))
    attempt("missing_ca", make_tls(p, ca="", ca_list_file=missing))
    attempt("unknown_cipher", make_tls(p, ciphers=["NO-SUCH-CIPHER"]))
    attempt("unknown_method", make_tls(p, method=7))
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    attempt("port_in_use", make_tls(p, cert="server"), busy.getsockname()[1])
    attempt("good", make_tls(p, cert="server"))
    attempt("not_a_tls_setting", "ca.pem")
    # Settings of the same family on other config objects are checked as strictly.
    acc = pj.AccountConfig()
    acc.id = "sip:x@127.0.0.1"
    acc.ipv6_media_use = 9
    try:
        lib.create_account(acc)
        out["ipv6_use"] = "created"
    except ValueError as exc:
        out["ipv6_use"] = ["ValueError", 0, str(exc)]
    report(out=out)
    lib.destroy()
    for name, field, value in (("turn_cred", "turn_cred", ("alice", "pw")),
                               ("ice_trickle", "ice_trickle", 5)):
        other = pj.Lib()
        mc = pj.MediaConfig()
        setattr(mc, field, value)
        try:
            other.init(media_cfg=mc)
            out[name] = "initialised"
        except (TypeError, ValueError) as exc:
            out[name] = [type(exc).__name__, 0, str(exc)]
        other.destroy()
    report(out=out)


def register(tls_port: str, pki: str, ca: str) -> None:
    p = json.loads(pki)
    port = int(tls_port)
    lib, (tp,) = ua_lib(transports=("tls",), tls=make_tls(p, ca=ca, verify_server=True))
    ev = Events()
    cfg = pj.AccountConfig("127.0.0.1", "alice", "alice-pw",
                           registrar=f"sip:127.0.0.1:{port};transport=tls",
                           proxy=f"sip:127.0.0.1:{port};transport=tls")
    cfg.transport_id = tp._id
    acc = lib.create_account(cfg, cb=AnsweringAccount(ev))
    ev.wait(lambda items: any(e[0] == "reg" for e in items), 15)
    report(regs=[e for e in ev.items if e[0] == "reg"], failures=lib.tls_failures(),
           last_err=acc.info().reg_last_err_msg)
    lib.destroy()


if __name__ == "__main__":
    main(globals())
