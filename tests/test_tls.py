"""TLS transports: calls between two processes with certificates a test CA signed,
verification failures reported with their reason, and bad TLS input."""

from __future__ import annotations

import json
import os
from pathlib import Path
from textwrap import dedent
from typing import Dict

import pytest

from tests.scenarios import tls
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
    r = run_scenario(tls.failure, json.dumps(pki), json.dumps(srv), json.dumps(cli),
                     timeout=60)
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
    r = run_scenario(tls.failure, json.dumps(pki), json.dumps(dict(cert="server")),
                     json.dumps(dict(ca="other_ca")), timeout=60)
    assert ["state", "CONFIRMED", 200, "OK"] in r["cli"]
    assert any(f.startswith("TLS accepted despite") and "untrusted" in f
               for f in r["failures"]), r["failures"]


def test_tls_bad_input_is_an_error_with_the_reason(pki: Dict[str, str],
                                                   tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    os.chmod(garbage, 0)
    r = run_scenario(tls.bad_input, json.dumps(pki), str(tmp_path / "none.pem"), str(garbage),
                     str(tmp_path), timeout=60)["out"]
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
        r = run_scenario(tls.register, str(kam.tls_port), json.dumps(pki), ca, timeout=60)
        log = kam.log_text()
    first = r["regs"][0]
    assert first[1:3] == [code, reason], r["regs"]
    if code == 200:
        assert "REQ REGISTER" in log and "/tls" in log, log[-2000:]
        assert r["failures"] == []
    else:  # the account says why, and so does the list of TLS failures
        assert r["last_err"] == "SSL certificate verification error (PJSIP_TLS_ECERTVERIF)"
        assert any("untrusted" in f for f in r["failures"]), r["failures"]
