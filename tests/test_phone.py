"""``python -m pjsua_ffi phone``, typed at through a pseudo-terminal against a second
pjsua process and against kamailio, and ``python -m pjsua_ffi --version``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from tests.media_support import read_wav, tone, write_wav
from tests.peers.kamailio import Kamailio
from tests.pty_support import PtyProcess
from tests.scenarios import cli
from tests.support import LOOPBACK, ROOT, run_scenario, scenario_env
from tests.test_examples import assert_tone, kam, peer, peer_recording, tone_peer  # noqa: F401
from tests.ua_peer import Peer

PEER_URI = r"<?sip:peer@127\.0\.0\.1(:\d+)?>?"  # a From header has no port


def phone(*args: str) -> PtyProcess:
    return PtyProcess([sys.executable, "-m", "pjsua_ffi", "phone", *args],
                      env=scenario_env(), cwd=str(ROOT))


def pjsua_ffi_cli(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "pjsua_ffi", *args], capture_output=True,
                          text=True, timeout=60, env=scenario_env(), cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_version_states_what_the_build_holds() -> None:
    lines: List[str] = pjsua_ffi_cli("--version").splitlines()
    # What the library itself can do, checked by using it.
    r = run_scenario(cli.version_states_what_the_build_holds)
    yes = {True: "yes", False: "no"}
    assert lines[0] == f"pjsua-ffi {r['version']}"
    assert re.fullmatch(r"pjproject 2\.\d+(\.\d+)?(-\w+)?", lines[1])
    assert lines[2] == f"TLS: {yes[r['tls']]}"
    assert lines[3] in ("SRTP: yes", "SRTP: no")
    assert lines[4] == f"Opus: {yes[r['opus']]}"
    # tools/dev builds pjproject with PortAudio (native/configure.options).
    assert lines[5] == "sound devices: PortAudio"


def test_help_lists_every_command() -> None:
    out = pjsua_ffi_cli("phone", "--help")
    for option in ("--registrar", "--user", "--password", "--bind", "--transport"):
        assert option in out
    for command in ("call URI", "answer", "hangup", "hold / unhold", "dtmf DIGITS",
                    "msg URI TEXT", "buddy URI", "status", "quit"):
        assert re.search(rf"^  {re.escape(command)}\s", out, re.M), command


def test_phone_call_with_audio_to_a_second_process(peer: Peer, tmp_path: Path) -> None:  # noqa: F811
    uri = tone_peer(peer, tmp_path, freq=660)
    say = write_wav(str(tmp_path / "say.wav"), tone(440, 1.0, 16000), 16000)
    heard = tmp_path / "heard.wav"
    with phone("--bind", LOOPBACK, "--user", "alice", "--play", say,
               "--record", str(heard)) as ph:
        me = ph.expect(r"^phone ready: <?(sip:alice@127\.0\.0\.1:\d+)>? on 127\.0\.0\.1:\d+ "
                       r"\(udp\); type help for commands$").group(1)
        # Mistakes are explained, and the phone goes on.
        ph.send("call notauri")
        ph.expect(r"^error: .*operation=make_call\(\), error=Invalid Request URI")
        ph.send("frobnicate")
        ph.expect(r"^unknown command 'frobnicate': type help$")
        ph.send("hangup")
        ph.expect(r"^no call$")
        ph.send(f"call {uri}")
        ph.expect_all(rf"^call {PEER_URI}: CONFIRMED \(200 OK\)$", r"^media: ACTIVE$")
        ph.send("dtmf 42")
        ph.expect(r"^dtmf sent: 42$")
        assert peer.run("""
            wait_event(lambda e: e == ('dtmf', '2'))
            result = ''.join(e[1] for e in EV.items if e[0] == 'dtmf')""") == "42"
        ph.send("hold")
        ph.expect(r"^media: LOCAL_HOLD$")
        ph.send("unhold")
        ph.expect(r"^media: ACTIVE$")

        ph.send(f"msg {uri} hello from the phone")
        ph.expect(rf"^message to {PEER_URI}: 200 OK$")
        assert peer.run("result = wait_event(lambda e: e[0] == 'acc_pager')[3]") == \
            "hello from the phone"
        ph.send(f"buddy {uri}")
        ph.expect(rf"^buddy {PEER_URI}: offline")
        peer.run("ACC.set_basic_status(True)")
        ph.expect(rf"^buddy {PEER_URI}: online \(Online\)$")

        ph.send("status")
        ph.expect(rf"^account <?{re.escape(me)}>?: no registrar$")
        ph.expect(rf"^call {PEER_URI}: CONFIRMED, media ACTIVE, \d+ s$")
        ph.expect(rf"^buddy {PEER_URI}: online \(Online\)$")
        peer.run("time.sleep(1.5)")   # audio flows both ways meanwhile
        ph.send("hangup")
        ph.expect(rf"^call {PEER_URI}: DISCONNECTED")
        peer.run("wait_event(lambda e: e[:2] == ('state', 'DISCONNECTED'))")
        # The peer calls the phone, which rings until answered.
        peer.run(f"CALL = ACC.make_call({me!r}, CallLog(EV))")
        ph.expect(rf"^incoming call from {PEER_URI}: type answer or hangup$")
        ph.send("answer")
        ph.expect(rf"^call {PEER_URI}: CONFIRMED \(200 OK\)$")
        peer.run("CALL.hangup()")
        ph.expect(rf"^call {PEER_URI}: DISCONNECTED")
        ph.send("quit")
        ph.expect(r"^bye$")
        assert ph.wait() == 0
    samples, rate = peer_recording(peer, tmp_path)
    assert_tone(samples, rate, 440)        # the phone's --play file reached the peer
    samples, rate = read_wav(str(heard))
    assert_tone(samples, rate, 660)        # and the peer's tone reached the phone


@pytest.mark.kamailio
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_phone_registers_at_kamailio_and_calls_through_it(kam: Kamailio,  # noqa: F811
                                                          transport: str) -> None:
    me = r"<?sip:alice@127\.0\.0\.1>?"
    with Peer("bob") as bob:
        bob.run(f"""
            from tests.support import AnsweringAccount, CallLog
            LIB, tps = start()
            cfg = pj.AccountConfig("127.0.0.1", "bob", "bob-pw", registrar={kam.uri!r},
                                   proxy={kam.uri!r})
            cfg.transport_id = tps[0]._id
            cfg.rtp_transport_cfg = pj.TransportConfig(0, "127.0.0.1", "127.0.0.1")
            ACC = LIB.create_account(cfg, cb=AnsweringAccount(EV, codes=(200,)))
            wait_event(lambda e: e[:2] == ('reg', 200))""")
        with phone("--registrar", kam.uri, "--user", "alice", "--bind", LOOPBACK,
                   "--transport", transport) as ph:
            ph.expect(r"^password for alice: ")
            ph.send("alice-pw")   # typed at the prompt, not echoed
            ph.expect_all(r"^registration: 200 OK \(expires in [1-9]\d* s\)$",
                          rf"^phone ready: {me} on 127\.0\.0\.1:\d+ \({transport}\)")
            assert "alice-pw" not in ph.output
            ph.send("status")
            ph.expect(rf"^account {me}: registration 200 OK, expires in [1-9]\d* s$")
            ph.send("call sip:bob@127.0.0.1")
            ph.expect(r"^call <?sip:bob@127\.0\.0\.1>?: CONFIRMED \(200 OK\)$")
            ph.send("msg sip:bob@127.0.0.1 hi bob")
            ph.expect(r"^message to <?sip:bob@127\.0\.0\.1>?: 200 OK$")
            ph.send("hangup")
            ph.expect(r"^call <?sip:bob@127\.0\.0\.1>?: DISCONNECTED")
            ph.send("call sip:nobody@127.0.0.1")
            ph.expect(r"^call <?sip:nobody@127\.0\.0\.1>?: DISCONNECTED \(404 ")
            ph.send("quit")
            ph.expect(r"^bye$")
            assert ph.wait() == 0
        got = bob.run("result = [e[3] for e in EV.items if e[0] == 'acc_pager']")
        incoming = bob.run("result = [e[1] for e in EV.items if e[0] == 'incoming']")
    assert got == ["hi bob"]
    assert len(incoming) == 1 and "sip:alice@127.0.0.1" in incoming[0]
