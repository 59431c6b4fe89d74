"""Every program in examples/ runs here against a real peer: a second pjsua process
(tests/ua_peer.py), a kamailio registrar, or another example. Interactive ones are
typed at through a pseudo-terminal. Each test checks what the example printed or
recorded, so an example that stops working fails the suite."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, List

import numpy as np
import pytest

from tests.media_support import band, dominant, read_wav, rms, tone, write_wav
from tests.peers.baresip import Baresip
from tests.peers.kamailio import Kamailio
from tests.pty_support import PtyProcess
from tests.support import LOOPBACK, ROOT, scenario_env
from tests.ua_peer import Peer

EXAMPLES = ROOT / "examples"
NET = ["--bind", LOOPBACK]

# A peer that answers every call, plays a tone (FREQ Hz, none if 0) into it and records
# what it hears to REC; events go to EV (tests.support.CallLog records).
TONE_PEER = """
from tests.support import AnsweringAccount, CallLog
from tests.peers.kamailio import Kamailio
from tests.media_support import tone, write_wav, only_codec
import os, tempfile, time
LIB, tps = start()
only_codec(LIB, "PCMU/8000/1")
FROM = None
if {freq}:
    wav = write_wav(os.path.join({tmp!r}, "peer-tone-{freq}.wav"), tone({freq}, 5, 16000), 16000)
    PLAYER = LIB.create_player(wav, loop=True)
    FROM = LIB.player_get_slot(PLAYER)
REC = LIB.create_recorder({rec!r})
ANSWER = AnsweringAccount(EV, codes={codes}, connect_to=LIB.recorder_get_slot(REC),
                          connect_from=FROM)
ACC = ua_account(LIB, tps[0], "peer", cb=ANSWER)
result = uri_of(tps[0], "peer")
"""


def tone_peer(peer: Peer, tmp: Path, freq: int = 0, name: str = "peer",
              codes: tuple = (200,)) -> str:
    """Make ``peer`` a tone peer; returns its URI. Its recording is tmp/NAME.wav."""
    return str(peer.run(TONE_PEER.format(freq=freq, tmp=str(tmp), rec=str(tmp / f"{name}.wav"),
                                         codes=codes)))


def peer_recording(peer: Peer, tmp: Path, name: str = "peer") -> tuple:
    """Close the peer's recorder and return (samples, rate) of what it heard."""
    peer.run("LIB.recorder_destroy(REC)")
    return read_wav(str(tmp / f"{name}.wav"))


def example(name: str, *args: str) -> List[str]:
    return [sys.executable, str(EXAMPLES / name), *args]


def run_example(name: str, *args: str, timeout: float = 60.0,
                expect_rc: int = 0) -> str:
    """Run an example to its end; return what it printed."""
    proc = subprocess.run(example(name, *args), capture_output=True, text=True,
                          timeout=timeout, env=scenario_env(), cwd=str(EXAMPLES))
    assert proc.returncode == expect_rc, \
        f"{name} exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    return proc.stdout


def start_example(name: str, *args: str) -> PtyProcess:
    return PtyProcess(example(name, *args), env=scenario_env(), cwd=str(EXAMPLES))


def peer_states(peer: Peer) -> List[str]:
    return list(peer.run("result = [e[1] for e in EV.items if e[0] == 'state']"))


@pytest.fixture()
def peer() -> Iterator[Peer]:
    with Peer("peer") as p:
        yield p


def test_simple_call(peer: Peer, tmp_path: Path) -> None:
    uri = tone_peer(peer, tmp_path, freq=440)
    out = run_example("simple_call.py", uri, "--seconds", "1", *NET)
    lines = out.splitlines()
    # No sound card here: the example says it falls back to the null device.
    assert "sound: null device (no sound device found)" in lines
    assert lines.index("call CONFIRMED (200 OK)") < lines.index("hanging up")
    assert "media ACTIVE" in lines
    assert re.search(r"^call DISCONNECTED \(\d+ ", out, re.M)
    peer.run("wait_event(lambda e: e[:2] == ('state', 'DISCONNECTED'))")
    assert peer_states(peer)[-2:] == ["CONFIRMED", "DISCONNECTED"]


def test_call_menu_typed_at_a_terminal(peer: Peer, tmp_path: Path) -> None:
    uri = tone_peer(peer, tmp_path)
    with start_example("call_menu.py", *NET) as menu:
        me = menu.expect(r"^my address: <?(sip:\S+?)>?$").group(1)
        menu.expect(r"q\s+quit$")
        menu.send(f"m {uri}")
        menu.expect_all(r"^call CONFIRMED \(200 OK\)", r"^media ACTIVE")
        menu.send("H")
        menu.expect(r"^media LOCAL_HOLD")
        menu.send("v")
        menu.expect(r"^media ACTIVE")
        menu.send("d 1234#")
        menu.expect(r"^sent DTMF 1234#")
        digits = peer.run("""
            wait_event(lambda e: e == ('dtmf', '#'))
            result = ''.join(e[1] for e in EV.items if e[0] == 'dtmf')""")
        assert digits == "1234#"
        # The peer saw the hold and the resume (its media states, in order).
        media = peer.run("result = [e[1] for e in EV.items if e[0] == 'media']")
        assert media[-2:] == ["REMOTE_HOLD", "ACTIVE"]
        menu.send("h")
        menu.expect(r"^call DISCONNECTED")
        peer.run("wait_event(lambda e: e[:2] == ('state', 'DISCONNECTED'))")
        menu.send("h")
        menu.expect(r"^no call")

        # Now the peer calls the menu, which rings until "a" is typed.
        peer.run(f"EV.items.clear()\nCALL2 = ACC.make_call({me!r}, CallLog(EV))")
        menu.expect(r"^incoming call from .*sip:peer@127\.0\.0\.1.*: type a to answer")
        peer.run("wait_event(lambda e: e[:3] == ('state', 'EARLY', 180))")
        menu.send("a")
        menu.expect(r"^call CONFIRMED \(200 OK\)")
        peer.run("wait_event(lambda e: e[:3] == ('state', 'CONFIRMED', 200))")
        peer.run("CALL2.hangup()")
        menu.expect(r"^call DISCONNECTED")
        menu.send("q")
        menu.expect(r"^bye")
        assert menu.wait() == 0


@pytest.fixture(scope="module")
def kam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kamailio]:
    server = Kamailio(tmp_path_factory.mktemp("kamailio"),
                      users={"alice": "alice-pw", "bob": "bob-pw"}, presence=False)
    with server.start():
        yield server


@pytest.mark.kamailio
def test_register_at_kamailio(kam: Kamailio) -> None:
    out = run_example("register.py", "--registrar", kam.uri, "--user", "alice",
                      "--password", "alice-pw", *NET)
    assert f"registering <sip:alice@127.0.0.1> at {kam.uri}" in out
    assert re.search(r"^registered: 200 OK, expires in [1-9]\d* s$", out, re.M), out
    assert "unregistered: 200 OK" in out
    wrong = run_example("register.py", "--registrar", kam.uri, "--user", "bob",
                        "--password", "wrong", *NET, expect_rc=1)
    assert re.search(r"^registration failed: 40[13] ", wrong, re.M), wrong


def test_presence_and_messages_between_two_programs() -> None:
    with start_example("presence_im.py", "--user", "bob", "--note", "at my desk", "--echo",
                       *NET) as bob:
        bob_uri = bob.expect(r"^my address: <?(sip:\S+?)>?, online$").group(1)
        # alice ends after one message back.
        alice = run_example("presence_im.py", "--user", "alice", "--buddy", bob_uri,
                            "--send", "hello bob", "--exit-after", "1", *NET)
        # A From header has no port: bob answers at the Contact of alice's SUBSCRIBE.
        bob.expect(r"^<sip:alice@127\.0\.0\.1> subscribes to my status: accepted$")
        bob.expect(r"^message from <sip:alice@127\.0\.0\.1>: hello bob$")
        bob.expect(r"^message to <sip:alice@127\.0\.0\.1:\d+;ob>: 200 OK$")
        bob.eof()
        assert bob.wait() == 0
    lines = alice.splitlines()
    # alice saw bob online with his note, greeted him, and got his echo back.
    online = [i for i, line in enumerate(lines)
              if re.match(rf"^buddy {re.escape(bob_uri)}: ACTIVE, ONLINE \(at my desk\)$",
                          line)]
    assert online, alice
    sent = lines.index(f"sent to {bob_uri}: hello bob")
    assert online[0] < sent
    assert f"message to {bob_uri}: 200 OK" in lines
    assert re.search(rf"^message from <?{re.escape(bob_uri)}>?: echo: hello bob$", alice, re.M)


def assert_tone(samples: object, rate: int, freq: float, context: object = "") -> None:
    """The recording (after its first half second) is loud and dominated by ``freq``."""
    x = samples[rate // 2:]  # type: ignore[index]
    assert rms(x) > 500, f"too quiet: RMS {rms(x):.0f}\n{context}"
    assert abs(dominant(x, rate) - freq) < freq * 0.02, \
        f"heard {dominant(x, rate):.1f} Hz\n{context}"


def test_play_wav_into_a_call(peer: Peer, tmp_path: Path) -> None:
    uri = tone_peer(peer, tmp_path)
    wav = write_wav(str(tmp_path / "440.wav"), tone(440, 2.0, 16000), 16000)
    out = run_example("play_wav.py", uri, wav, *NET)
    lines = out.splitlines()
    assert lines.index("playing") < lines.index("end of file: hanging up")
    assert re.search(r"^call DISCONNECTED", out, re.M)
    peer.run("wait_event(lambda e: e[:2] == ('state', 'DISCONNECTED'))")
    samples, rate = peer_recording(peer, tmp_path)
    assert_tone(samples, rate, 440)


def test_record_a_call(peer: Peer, tmp_path: Path) -> None:
    tone_peer(peer, tmp_path, freq=660)
    wav = tmp_path / "recorded.wav"
    with start_example("record_call.py", str(wav), *NET) as rec:
        me = rec.expect(r"^my address: <?(sip:\S+?)>?; waiting for a call$").group(1)
        peer.run(f"CALL = ACC.make_call({me!r}, CallLog(EV, connect_from=FROM))")
        rec.expect(r"^incoming call from <?sip:peer@127\.0\.0\.1")
        rec.expect(r"^recording$")
        peer.run("wait_event(lambda e: e[:3] == ('state', 'CONFIRMED', 200))\n"
                 "time.sleep(2)\nCALL.hangup()")
        rec.expect(r"^call DISCONNECTED")
        length = float(rec.expect(r"^recorded (\d+\.\d) s to ").group(1))
        assert rec.wait() == 0
    assert length >= 1.0
    samples, rate = read_wav(str(wav))
    assert len(samples) == pytest.approx(length * rate, abs=rate * 0.1)
    assert_tone(samples, rate, 660)


def test_three_party_conference_with_recording(tmp_path: Path) -> None:
    mix = tmp_path / "mix.wav"
    with Peer("bob") as bob, Peer("carol") as carol:
        bob_uri = tone_peer(bob, tmp_path, freq=440, name="bob")
        carol_uri = tone_peer(carol, tmp_path, freq=880, name="carol")
        out = run_example("conference.py", bob_uri, carol_uri, "--record", str(mix),
                          "--seconds", "2", *NET)
        for peer in (bob, carol):
            peer.run("wait_event(lambda e: e[:2] == ('state', 'DISCONNECTED'))")
        heard_by_bob, rate_b = peer_recording(bob, tmp_path, "bob")
        heard_by_carol, rate_c = peer_recording(carol, tmp_path, "carol")
        seen = {name: p.run("result = EV.items") for name, p in (("bob", bob),
                                                                  ("carol", carol))}
        for p in (bob, carol):  # what the peers logged, for a failure's message
            p._err.seek(0)
            seen[p.name + " log"] = p._err.read()[-3000:]
    assert f"{bob_uri} joined the conference" in out
    assert f"{carol_uri} joined the conference" in out
    assert f"recorded the conference to {mix}" in out
    # Each hears the other through the bridge (and not themselves) ...
    context = f"{out}\npeers saw: {seen}"
    assert_tone(heard_by_bob, rate_b, 880, context)
    assert_tone(heard_by_carol, rate_c, 440, context)
    # ... and the recording holds both voices.
    samples, rate = read_wav(str(mix))
    x = samples[rate // 2:]
    assert band(x, rate, 440) > 0.25 and band(x, rate, 880) > 0.25, \
        (band(x, rate, 440), band(x, rate, 880))


def test_numpy_bot_hears_and_answers(peer: Peer, tmp_path: Path) -> None:
    # The caller says one "word" (a 440 Hz tone for a second), then listens.
    speech = np.concatenate([tone(440, 1.0, 16000), np.zeros(48000, np.int16)])
    wav = write_wav(str(tmp_path / "word.wav"), speech, 16000)
    tone_peer(peer, tmp_path)
    with start_example("numpy_bot.py", "--calls", "1", *NET) as bot:
        me = bot.expect(r"^my address: <?(sip:\S+?)>?; waiting for calls$").group(1)
        peer.run(f"""
            SAY = LIB.create_player({wav!r})
            CALL = ACC.make_call({me!r}, CallLog(EV, connect_from=LIB.player_get_slot(SAY),
                                                 connect_to=LIB.recorder_get_slot(REC)))""")
        bot.expect(r"^incoming call from <?sip:peer@127\.0\.0\.1")
        bot.expect(r"^listening$")
        m = bot.expect(r"^heard (\d+) Hz for (\d+\.\d) s; replying with (\d+) Hz$")
        heard, length, reply = float(m.group(1)), float(m.group(2)), float(m.group(3))
        assert heard == pytest.approx(440, rel=0.02) and reply == pytest.approx(660, rel=0.02)
        assert 0.8 <= length <= 1.2
        # Let the answer play out, then the caller hangs up.
        peer.run("time.sleep(1.5)\nCALL.hangup()\n"
                 "wait_event(lambda e: e[:2] == ('state', 'DISCONNECTED'))")
        bot.expect(r"^call DISCONNECTED")
        m = bot.expect(r"^audio in: (\d+) frames, (\d+) dropped; audio out: (\d+) frames, "
                       r"(\d+) silent; (\d+) callbacks, longest gap (\d+) ms$")
        frames_in, _dropped, frames_out, silent, callbacks, _gap = map(int, m.groups())
        assert bot.wait() == 0
    # The bridge sends the sink a frame every 20 ms of the call: at least the word, the
    # silence that ended it and the reply. The source played the whole reply.
    assert frames_in >= 50 + 15 + 30 and callbacks > 0
    assert frames_out >= 30 and silent > 0
    samples, rate = peer_recording(peer, tmp_path)
    assert_tone(samples, rate, 660)


def test_the_readme_first_program(peer: Peer, tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## A first program", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    program = tmp_path / "first.py"
    program.write_text(code)
    uri = tone_peer(peer, tmp_path)
    proc = subprocess.run([sys.executable, str(program), uri], capture_output=True,
                          text=True, timeout=60, env=scenario_env())
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "call CONFIRMED 200 OK" in lines
    assert lines[-1].startswith("call DISCONNECTED ")
    assert len(code.strip().splitlines()) <= 30
    peer.run("wait_event(lambda e: e[:2] == ('state', 'DISCONNECTED'))")


@pytest.mark.parametrize("name", ["simple_call.py", "call_menu.py", "register.py",
                                  "presence_im.py", "play_wav.py", "record_call.py",
                                  "conference.py", "numpy_bot.py"])
def test_every_example_explains_itself(name: str) -> None:
    out = run_example(name, "--help")
    first_line = (EXAMPLES / name).read_text().split('"""')[1].split("\n")[0]
    assert first_line.rstrip(".") in " ".join(out.split())
    assert "--bind" in out and "--port" in out


# baresip: an independent SIP implementation at the other end.

needs_baresip = pytest.mark.skipif(shutil.which("baresip") is None,
                                   reason="baresip is not installed (tools/dev installs it)")


@needs_baresip
def test_play_wav_to_baresip(tmp_path: Path) -> None:
    wav = write_wav(str(tmp_path / "440.wav"), tone(440, 2.0, 16000), 16000)
    silence = Path(write_wav(str(tmp_path / "silence.wav"), np.zeros(8000 * 30, np.int16), 8000))
    with Baresip(tmp_path / "baresip", silence, user="bob") as bob:
        out = run_example("play_wav.py", bob.uri, wav, *NET)
        bob.wait_event(lambda e: e.get("type") == "CALL_CLOSED")
        received = bob.recordings("dec")
    assert "end of file: hanging up" in out
    assert len(received) == 1
    samples, rate = read_wav(str(received[0]))
    assert_tone(samples, rate, 440)


@needs_baresip
def test_numpy_bot_answers_baresip(tmp_path: Path) -> None:
    # baresip's microphone says one "word" (440 Hz for a second), then stays silent.
    speech = np.concatenate([tone(440, 1.0, 8000), np.zeros(8000 * 10, np.int16)])
    mic = Path(write_wav(str(tmp_path / "word.wav"), speech, 8000))
    with start_example("numpy_bot.py", "--calls", "1", *NET) as bot:
        me = bot.expect(r"^my address: <?(sip:\S+?)>?; waiting for calls$").group(1)
        with Baresip(tmp_path / "baresip", mic, user="caller") as caller:
            caller.command("dial", me)
            bot.expect(r"^incoming call from <?sip:caller@127\.0\.0\.1")
            m = bot.expect(r"^heard (\d+) Hz for (\d+\.\d) s; replying with (\d+) Hz$")
            assert float(m.group(1)) == pytest.approx(440, rel=0.02)
            caller.wait_event(lambda e: e.get("type") == "CALL_ESTABLISHED")
            time.sleep(1.5)   # the reply plays meanwhile
        # baresip ended; so did the call.
        bot.expect(r"^call DISCONNECTED")
        bot.expect(r"^audio in: \d+ frames")
        assert bot.wait() == 0
        received = caller.recordings("dec")
    assert len(received) == 1
    samples, rate = read_wav(str(received[0]))
    assert_tone(samples, rate, 660)
