"""TLS transports: calls between two processes with certificates a test CA signed,
verification failures reported with their reason, and bad TLS input."""

from __future__ import annotations

import json
import os
from pathlib import Path
from textwrap import dedent
from typing import Dict

import pytest

from tests.secure_support import make_pki
from tests.support import run_scenario
from tests.ua_peer import Peer


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, str]:
    return make_pki(tmp_path_factory.mktemp("pki"))


HEAD = """
import json
from tests.secure_support import make_tls
from tests.support import AnsweringAccount, CallLog
P = json.loads({pki!r})
"""


@pytest.mark.parametrize("kind", ["tls", "tls6"])
def test_tls_call_between_two_processes_verified_both_ways(pki: Dict[str, str],
                                                            kind: str) -> None:
    head = HEAD.format(pki=json.dumps(pki))
    with Peer("server") as server, Peer("client") as client:
        srv = server.run(head + dedent(f"""
            TLS = make_tls(P, cert="server", verify_client=True, require_client_cert=True)
            LIB, tps = start(transports=({kind!r},), tls=TLS)
            ACC = ua_account(LIB, tps[0], "srv", cb=AnsweringAccount(EV))
            I = tps[0].info()
            result = [uri_of(tps[0], "srv"), I.type, I.is_secure, I.is_reliable, I.host]
            """))
        uri, tp_type, secure, reliable, host = srv
        assert tp_type == "TLS" and secure and reliable
        assert host == ("127.0.0.1" if kind == "tls" else "::1")
        assert uri.endswith(";transport=tls")
        # The client pins TLS 1.2 and one cipher suite, and verifies the server.
        first = client.run(head + dedent(f"""
            TLS = make_tls(P, cert="client", verify_server=True,
                           method=pj.SSLMethod.TLSV1_2,
                           ciphers=["ECDHE-RSA-AES128-GCM-SHA256"])
            LIB, tps = start(transports=({kind!r},), tls=TLS)
            ACC = ua_account(LIB, tps[0], "cli")
            CALL = ACC.make_call({uri!r}, CallLog(EV))
            result = wait_event(lambda e: e[0] == "state" and e[1] in
                                ("CONFIRMED", "DISCONNECTED"), 10)
            """))
        assert first == ["state", "CONFIRMED", 200, "OK"]
        invite = server.run("result = wait_event(lambda e: e[0] == 'incoming')[2]")
        via = next(line for line in invite.split("\r\n") if line.lower().startswith("via:"))
        assert "SIP/2.0/TLS" in via
        assert ("[::1]" if kind == "tls6" else "127.0.0.1") in via
        assert ("c=IN IP6 ::1" if kind == "tls6" else "c=IN IP4 127.0.0.1") in invite
        for peer in (server, client):
            assert peer.run("result = wait_event(lambda e: e[:2] == ('media', 'ACTIVE'))")
        client.run("CALL.hangup()")
        assert server.run("result = wait_event(lambda e: e[:2] == ('state', 'DISCONNECTED'))"
                          )[1] == "DISCONNECTED"
        # Nothing failed verification on either side.
        assert server.run("result = LIB.tls_failures()") == []
        assert client.run("result = LIB.tls_failures()") == []


# One process, two TLS transports: "srv" answers, "cli" calls it with its own settings.
FAILURE = HEAD + """
import pjsua_ffi as pj
from tests.support import Events, CallLog, AnsweringAccount, report, ua_account, uri_of
lib = pj.Lib()
mc = pj.MediaConfig(); mc.enable_ice = False
lib.init(pj.UAConfig(), pj.LogConfig(level=1, console_level=1), mc)
lib.set_null_snd_dev()
def transport(tls):
    cfg = pj.TransportConfig(0, "127.0.0.1", "127.0.0.1")
    cfg.tls_setting = tls
    return lib.create_transport(pj.TransportType.TLS, cfg)
srv_tp = transport(make_tls(P, **{srv}))
cli_tp = transport(make_tls(P, **{cli}))
lib.start()
ev_srv, ev_cli = Events(), Events()
ua_account(lib, srv_tp, "srv", cb=AnsweringAccount(ev_srv), set_default=False)
cli = ua_account(lib, cli_tp, "cli")
call = cli.make_call(uri_of(srv_tp, "srv"), CallLog(ev_cli))
ev_cli.wait(lambda items: any(e[:2] in (("state", "DISCONNECTED"), ("state", "CONFIRMED"))
                              for e in items), 15)
if any(e[:2] == ("state", "CONFIRMED") for e in ev_cli.items):
    call.hangup()
    ev_cli.wait(lambda items: any(e[:2] == ("state", "DISCONNECTED") for e in items), 5)
report(cli=ev_cli.items, srv=[e[:2] for e in ev_srv.items], failures=lib.tls_failures())
lib.destroy()
"""


@pytest.mark.parametrize("case,srv,cli,reason,failure", [
    ("wrong_ca", dict(cert="server"), dict(ca="other_ca", verify_server=True),
     "SSL certificate verification error", "The certificate is untrusted"),
    ("wrong_name", dict(cert="elsewhere"), dict(verify_server=True),
     "SSL certificate verification error", "The server identity does not match"),
    ("client_cert_missing", dict(cert="server", verify_client=True,
                                 require_client_cert=True), dict(),
     "", "TLS failed with"),
])
def test_tls_verification_failure_ends_the_call_with_the_reason(
        pki: Dict[str, str], case: str, srv: dict, cli: dict, reason: str,
        failure: str) -> None:
    r = run_scenario(FAILURE.format(pki=json.dumps(pki), srv=srv, cli=cli), timeout=60)
    states = [e for e in r["cli"] if e[0] == "state"]
    assert states[0][:2] == ["state", "CALLING"]
    last = states[-1]
    assert last[1] == "DISCONNECTED" and last[2] == 503, r["cli"]
    assert reason in last[3]
    assert ["state", "CONFIRMED"] not in r["srv"]  # the callee never got the call up
    assert any(failure in f for f in r["failures"]), r["failures"]


def test_tls_unverified_peer_is_accepted_only_when_asked_and_still_reported(
        pki: Dict[str, str]) -> None:
    # verify_server off: a certificate from an unknown CA is accepted, but listed.
    r = run_scenario(FAILURE.format(pki=json.dumps(pki), srv=dict(cert="server"),
                                    cli=dict(ca="other_ca")), timeout=60)
    assert ["state", "CONFIRMED", 200, "OK"] in r["cli"]
    assert any(f.startswith("TLS accepted despite") and "untrusted" in f
               for f in r["failures"]), r["failures"]


BAD_INPUT = HEAD + """
import socket
import pjsua_ffi as pj
from tests.support import report
lib = pj.Lib()
lib.init(pj.UAConfig(), pj.LogConfig(level=1, console_level=1), pj.MediaConfig())
out = {{}}
def attempt(name, tls, port=0):
    cfg = pj.TransportConfig(port, "127.0.0.1", "127.0.0.1")
    cfg.tls_setting = tls
    try:
        lib.create_transport(pj.TransportType.TLS, cfg)
        out[name] = "created"
    except pj.Error as exc:
        out[name] = ["Error", exc.err_code, str(exc)]
    except (ValueError, TypeError) as exc:
        out[name] = [type(exc).__name__, 0, str(exc)]
attempt("missing_cert", make_tls(P, cert="server", cert_file={missing!r}))
attempt("garbage_cert", make_tls(P, cert="server", cert_file={garbage!r}))
attempt("cert_is_a_folder", make_tls(P, cert="server", cert_file={folder!r}))
attempt("wrong_password", make_tls(P, cert="server", password="wrong"))
attempt("key_of_another_cert", make_tls(P, cert="server", privkey_file=P["client_key"]))
attempt("missing_ca", make_tls(P, ca="", ca_list_file={missing!r}))
attempt("unknown_cipher", make_tls(P, ciphers=["NO-SUCH-CIPHER"]))
attempt("unknown_method", make_tls(P, method=7))
busy = socket.socket()
busy.bind(("127.0.0.1", 0))
busy.listen()
attempt("port_in_use", make_tls(P, cert="server"), busy.getsockname()[1])
attempt("good", make_tls(P, cert="server"))
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
"""


def test_tls_bad_input_is_an_error_with_the_reason(pki: Dict[str, str],
                                                   tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    os.chmod(garbage, 0)
    r = run_scenario(BAD_INPUT.format(pki=json.dumps(pki), missing=str(tmp_path / "none.pem"),
                                      garbage=str(garbage), folder=str(tmp_path)),
                     timeout=60)["out"]
    assert r.pop("good") == "created"
    for name in ("missing_cert", "garbage_cert", "cert_is_a_folder", "wrong_password",
                 "key_of_another_cert", "missing_ca", "port_in_use"):
        assert r[name][0] == "Error", (name, r[name])
    assert "No such file" in r["missing_cert"][2] and "none.pem" in r["missing_cert"][2]
    assert "certificate" in r["wrong_password"][2].lower()
    assert "KEY_VALUES_MISMATCH" in r["key_of_another_cert"][2]
    assert r["port_in_use"][1] == 120000 + 98  # EADDRINUSE
    assert r["unknown_cipher"][0] == "ValueError" and "NO-SUCH-CIPHER" in r["unknown_cipher"][2]
    assert r["unknown_method"][0] == "ValueError"
    assert r["not_a_tls_setting"][0] == "TypeError"
    assert r["ipv6_use"][0] == "ValueError"
    assert r["turn_cred"][0] == "TypeError" and "AuthCred" in r["turn_cred"][2]
    assert r["ice_trickle"][0] == "ValueError"


def test_build_refuses_pjproject_without_tls(tmp_path: Path, monkeypatch:
                                             pytest.MonkeyPatch) -> None:
    os.environ.setdefault("PJSUA_FFI_SKIP_FFIBUILDER", "1")  # import without building
    import build_pjsip

    inc = tmp_path / "pjlib" / "include" / "pj" / "compat"
    inc.mkdir(parents=True)
    monkeypatch.setattr(build_pjsip, "VENDOR", tmp_path)
    (inc / "os_auto.h").write_text("#define PJ_HAS_SSL_SOCK 0\n")
    with pytest.raises(build_pjsip.BuildError, match="did not find OpenSSL.*libssl-dev"):
        build_pjsip.check_configured()
    (inc / "os_auto.h").write_text("#ifndef PJ_HAS_SSL_SOCK\n#define PJ_HAS_SSL_SOCK 1\n#endif\n")
    build_pjsip.check_configured()
    # And the extension we test against was compiled with TLS.
    from pjsua_ffi._pjsua import lib

    assert lib.PJFFI_HAS_TLS == 1


REGISTER = HEAD + """
import sys
import pjsua_ffi as pj
from tests.support import Events, report, ua_lib
TLS_PORT = int(sys.argv[1])
lib, (tp,) = ua_lib(transports=("tls",), tls=make_tls(P, ca={ca!r}, verify_server=True))
ev = Events()
cfg = pj.AccountConfig("127.0.0.1", "alice", "alice-pw",
                       registrar=f"sip:127.0.0.1:{{TLS_PORT}};transport=tls",
                       proxy=f"sip:127.0.0.1:{{TLS_PORT}};transport=tls")
cfg.transport_id = tp._id
acc = lib.create_account(cfg, cb=AnsweringAccount(ev))
ev.wait(lambda items: any(e[0] == "reg" for e in items), 15)
report(regs=[e for e in ev.items if e[0] == "reg"], failures=lib.tls_failures(),
       last_err=acc.info().reg_last_err_msg)
lib.destroy()
"""


@pytest.mark.kamailio
@pytest.mark.parametrize("ca,code,reason", [
    ("ca", 200, "OK"),
    ("other_ca", 503, "Service Unavailable")])
def test_tls_registration_at_kamailio(pki: Dict[str, str], tmp_path: Path, ca: str,
                                      code: int, reason: str) -> None:
    from tests.peers.kamailio import Kamailio

    if not list(Path("/usr/lib").glob("*/kamailio/modules/tls.so")):
        pytest.skip("kamailio's TLS module is not installed (kamailio-tls-modules)")
    kam = Kamailio(tmp_path / "kam", users={"alice": "alice-pw"}, presence=False,
                   tls_cert=pki["registrar"], tls_key=pki["registrar_key"])
    with kam.start():
        r = run_scenario(REGISTER.format(pki=json.dumps(pki), ca=ca), str(kam.tls_port),
                         timeout=60)
        log = kam.log_text()
    first = r["regs"][0]
    assert first[1:3] == [code, reason], r["regs"]
    if code == 200:
        assert "REQ REGISTER" in log and "/tls" in log, log[-2000:]
        assert r["failures"] == []
    else:  # the account says why, and so does the list of TLS failures
        assert r["last_err"] == "SSL certificate verification error (PJSIP_TLS_ECERTVERIF)"
        assert any("untrusted" in f for f in r["failures"]), r["failures"]
