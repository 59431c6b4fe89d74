"""NAT traversal through real NATs: network namespaces made by the tests, each user
agent behind its own masquerading nft router, coturn (STUN and TURN) on the public
side (see tests/peers/netns.py for the layout). Shows the STUN-found address in the
transport and the Contact, ICE between the two NATed agents with audio both ways,
a TURN relay used alone with audio and coturn's allocation, and bounded failures."""

from __future__ import annotations

import os
import shutil
import time
from typing import Iterator, Tuple

import pytest

from tests.peers.coturn import Coturn
from tests.peers.netns import PRIVATE, PUBLIC, SERVER, NatLab
from tests.ua_peer import Peer

pytest.importorskip("numpy")

STUN = f"{SERVER}:3478"
F_A, F_B = 440.0, 1000.0


def _why_no_namespaces() -> str:
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "nft", "turnserver"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (tools/dev installs it)"
    return ""


if _why_no_namespaces():
    pytest.skip(_why_no_namespaces(), allow_module_level=True)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[NatLab, Coturn]]:
    nat = NatLab()
    nat.up()  # deletes what it made if it fails
    try:
        with Coturn(tmp_path_factory.mktemp("coturn"), SERVER, prefix=nat.prefix("pub")) as turn:
            yield nat, turn
    finally:
        nat.down()


COMMON = """
from tests.secure_support import ToneProbe, nat_ua
from tests.support import AnsweringAccount, CallLog
"""


def _agents(nat: NatLab, a_kw: dict, b_kw: dict) -> Tuple[Peer, Peer]:
    """Start B (answers, plays F_B) and A (plays F_A) in their namespaces."""
    a = Peer("A", prefix=nat.prefix("a"))
    b = Peer("B", prefix=nat.prefix("b"))
    try:
        b.run(COMMON + f"""
LIB, TP, cfg = nat_ua({PRIVATE['b']!r}, {PUBLIC['b']!r}, user="b", **{b_kw!r})
PROBE = ToneProbe(LIB, {F_B})
ACC = LIB.create_account(cfg, cb=AnsweringAccount(EV, connect_to=PROBE.sink.slot,
                                                   connect_from=PROBE.source.slot))
""")
        a.run(COMMON + f"""
LIB, TP, cfg = nat_ua({PRIVATE['a']!r}, user="a", **{a_kw!r})
PROBE = ToneProbe(LIB, {F_A})
ACC = LIB.create_account(cfg)
def call():
    global CALL
    CALL = ACC.make_call("sip:b@{PUBLIC['b']}:5060", CallLog(EV, connect_to=PROBE.sink.slot,
                                                             connect_from=PROBE.source.slot))
""")
    except BaseException:
        a.close()
        b.close()
        raise
    return a, b


def _call_and_wait_ice(a: Peer, b: Peer) -> Tuple[dict, dict]:
    """A calls B; once ICE is done on both sides, what each side's transport says and
    hears."""
    assert a.run("call()\nresult = wait_event(lambda e: e[0] == 'state' and e[1] in "
                 "('CONFIRMED', 'DISCONNECTED'), 15)") == ["state", "CONFIRMED", 200, "OK"]
    out = []
    for peer in (a, b):
        out.append(peer.run("""
import time
call = CALL if "CALL" in globals() else ACC._cb.calls[0]
for _ in range(200):   # ICE checks run after the answer; bounded wait for the outcome
    m = call.media_transport_info()
    if m.ice_state in ("Negotiation Success", "Negotiation Failed"):
        break
    time.sleep(0.05)
result = {"ice": [m.ice_active, m.ice_state, m.ice_role, list(m.local_candidate),
                  list(m.remote_candidate)], "heard": PROBE.heard(1.0)}
"""))
    return out[0], out[1]


def test_nat_stun_address_in_transport_info_and_contact(lab: Tuple[NatLab, Coturn]) -> None:
    nat, _ = lab
    a, b = _agents(nat, dict(stun=STUN), {})
    with a, b:
        info = a.run("i = TP.info(); result = [i.host, i.port, cfg.id]")
        # The transport advertises what STUN saw: router A's public address.
        assert info[0] == PUBLIC["a"] and info[2] == f"sip:a@{PUBLIC['a']}:{info[1]}"
        assert a.run("call()\nresult = wait_event(lambda e: e[0] == 'state' and e[1] in "
                     "('CONFIRMED', 'DISCONNECTED'), 15)")[1] == "CONFIRMED"
        invite = b.run("result = wait_event(lambda e: e[0] == 'incoming')[2]")
        contact = next(h for h in invite.split("\r\n") if h.startswith("Contact:"))
        assert f"@{PUBLIC['a']}:{info[1]}" in contact, contact
        assert f"c=IN IP4 {PUBLIC['a']}" in invite  # STUN found the RTP address too
        assert PRIVATE["a"] not in invite
        a.run("CALL.hangup()")
        b.run("wait_event(lambda e: e[:2] == ('state', 'DISCONNECTED'))")


@pytest.mark.parametrize("trickle", [0, 2], ids=["ice", "trickle_ice"])
def test_nat_ice_between_two_nated_agents_with_audio(lab: Tuple[NatLab, Coturn],
                                                     trickle: int) -> None:
    nat, _ = lab
    kw = dict(stun=STUN, ice=True, trickle=trickle)
    a, b = _agents(nat, kw, kw)
    with a, b:
        got_a, got_b = _call_and_wait_ice(a, b)
        if trickle:  # the offer announces trickle ICE
            invite = b.run("result = wait_event(lambda e: e[0] == 'incoming')[2]")
            assert "a=ice-options:trickle" in invite, invite[-1500:]
        for got, me, other, heard in ((got_a, "a", "b", F_B), (got_b, "b", "a", F_A)):
            active, state, role, local, remote = got["ice"]
            assert active and state == "Negotiation Success", got
            # Each side reaches the other through the other's NAT mapping.
            assert local[0] in ("srflx", "prflx") and local[1].startswith(PUBLIC[me] + ":")
            assert remote[0] in ("srflx", "prflx") and remote[1].startswith(PUBLIC[other])
            assert got["heard"]["rms"] > 1000 and abs(got["heard"]["freq"] - heard) < 20, got
        assert {got_a["ice"][2], got_b["ice"][2]} == {"controlling", "controlled"}
        a.run("CALL.hangup()")


def test_nat_turn_relay_only_with_audio_and_coturn_allocation(
        lab: Tuple[NatLab, Coturn]) -> None:
    nat, turn = lab
    a, b = _agents(nat, dict(turn=STUN, ice=True, relay_only=True),
                   dict(stun=STUN, ice=True))
    with a, b:
        got_a, got_b = _call_and_wait_ice(a, b)
        invite = b.run("result = wait_event(lambda e: e[0] == 'incoming')[2]")
        cands = [ln for ln in invite.split("\r\n") if ln.startswith("a=candidate:")]
        offer_has_only_relay = bool(cands) and all("typ relay" in c for c in cands)
        assert offer_has_only_relay, cands
        active, state, _, local, remote = got_a["ice"]
        assert active and state == "Negotiation Success"
        assert local[0] == "relay" and local[1].startswith(SERVER + ":"), got_a
        assert got_b["ice"][4][1].startswith(SERVER + ":")  # B talks to the relay
        assert got_a["heard"]["rms"] > 1000 and abs(got_a["heard"]["freq"] - F_B) < 20
        assert got_b["heard"]["rms"] > 1000 and abs(got_b["heard"]["freq"] - F_A) < 20
        a.run("CALL.hangup()")
    log = turn.log_text()
    relay_port = local[1].rsplit(":", 1)[1]
    assert "user <alice>" in log and "ALLOCATE processed, success" in log, log[-3000:]
    assert f"{SERVER}:{relay_port}" in log  # the relayed address coturn gave out


@pytest.mark.parametrize("case", ["wrong_credentials", "turn_server_down"])
def test_nat_turn_failure_ends_the_call_with_the_reason(lab: Tuple[NatLab, Coturn],
                                                        case: str) -> None:
    nat, turn = lab
    a_kw = dict(turn=STUN, ice=True, relay_only=True)
    if case == "wrong_credentials":
        a_kw["turn_password"] = "not-the-password"
    else:
        a_kw["turn"] = f"{SERVER}:3479"  # nothing listens there
    a, b = _agents(nat, a_kw, dict(stun=STUN, ice=True))
    with a, b:
        start = time.monotonic()
        last = a.run("call()\nresult = wait_event(lambda e: e[:2] == ('state', "
                     "'DISCONNECTED'), 30)", timeout=40)
        took = time.monotonic() - start
        assert last[2] == 480
        if case == "wrong_credentials":
            assert last[3] == "Media init error: Unauthorized"
            assert "user alice credentials are incorrect" in turn.log_text()
        else:
            assert last[3].startswith("Media init error: STUN transaction has timed out")
        assert b.run("result = [e for e in EV.items if e[0] == 'incoming']") == []
    assert took < 30  # bounded: never a hang


def test_nat_unresolvable_stun_host_is_an_error(lab: Tuple[NatLab, Coturn]) -> None:
    nat, _ = lab
    # Inside host A's namespace no name server is reachable: the look-up fails there
    # (and no query leaves the namespaces).
    with Peer("A", prefix=nat.prefix("a")) as a:
        r = a.run(f"""
import time
lib = pj.Lib()
ua = pj.UAConfig()
ua.stun_host = "stun.no-such-host.invalid"
ua.stun_ignore_failure = False
start = time.monotonic()
try:
    lib.init(ua, pj.LogConfig(level=0, console_level=0))
    lib.set_null_snd_dev()
    lib.create_transport(pj.TransportType.UDP, pj.TransportConfig(5060, {PRIVATE['a']!r}))
    lib.start()
    result = ["no error"]
except pj.Error as exc:
    result = ["Error", exc.op_name, exc.err_msg(), time.monotonic() - start]
lib.destroy()
""", timeout=60)
    assert r[0] == "Error", r
    assert r[1] in ("init()", "start()") and "resolve" in r[2].lower(), r
    assert r[3] < 30, r


def test_nat_lab_leaves_nothing_behind_when_setup_fails() -> None:
    import subprocess

    from tests.peers import netns

    lab = netns.NatLab("x")  # not the module's lab, which may be up
    real = lab._in

    def fail_at_nft(ns: str, *cmd: str, stdin: str = "") -> None:
        if cmd[0] == "nft":  # after namespaces and veths exist
            raise netns.NatLabError("injected failure")
        real(ns, *cmd, stdin=stdin)

    lab._in = fail_at_nft  # type: ignore[method-assign]
    with pytest.raises(netns.NatLabError, match="injected"):
        lab.up()
    spaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout
    assert lab.tag not in spaces and lab.tag not in links
