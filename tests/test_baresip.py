"""Interop with baresip, an independent SIP user agent (Debian's ``baresip-core``),
driven over its ctrl_tcp module: calls both ways with audio checked at each end,
hangup from either side, and DTMF from us arriving at baresip."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator, Tuple

import pytest

from tests.peers.baresip import Baresip
from tests.ua_peer import Peer

np = pytest.importorskip("numpy")

F_US, F_BARESIP = 440.0, 1000.0

if shutil.which("baresip") is None:
    pytest.skip("baresip is not installed (tools/dev installs it)", allow_module_level=True)


def _heard_by_baresip(bs: Baresip, before: set) -> Tuple[float, float]:
    """Level and dominant frequency of what baresip received in the newest call."""
    from tests.media_support import dominant, read_wav, rms

    new = [p for p in bs.recordings("dec") if p not in before]
    assert len(new) == 1, (new, bs.log_text()[-2000:])
    x, rate = read_wav(str(new[0]))
    x = x[int(0.3 * rate):]  # skip the start-up
    return rms(x), dominant(x, rate)


@pytest.fixture
def ends(tmp_path: Path) -> Iterator[Tuple[Peer, Baresip]]:
    from tests.media_support import tone, write_wav

    # aufile does not loop: the file outlasts the test's calls.
    mic = write_wav(str(tmp_path / "mic.wav"), tone(F_BARESIP, 30.0, 8000), 8000)
    with Peer("us") as us, Baresip(tmp_path / "baresip", Path(mic)) as bs:
        us.run(f"""
            from tests.secure_support import ToneProbe
            from tests.support import AnsweringAccount, CallLog
            from tests.media_support import only_codec
            LIB, tps = start()
            only_codec(LIB, "PCMU/8000/1")
            PROBE = ToneProbe(LIB, {F_US})
            CB = AnsweringAccount(EV, connect_to=PROBE.sink.slot,
                                  connect_from=PROBE.source.slot)
            ACC = ua_account(LIB, tps[0], "us", cb=CB)
            URI = uri_of(tps[0], "us")
            """)
        yield us, bs


def test_baresip_we_call_it_audio_both_ways_dtmf_and_our_hangup(
        ends: Tuple[Peer, Baresip]) -> None:
    us, bs = ends
    before = set(bs.recordings("dec"))
    state = us.run(f"""
        CALL = ACC.make_call({bs.uri!r}, CallLog(EV, connect_to=PROBE.sink.slot,
                                                 connect_from=PROBE.source.slot))
        result = wait_event(lambda e: e[0] == "state" and e[1] in
                            ("CONFIRMED", "DISCONNECTED"), 10)
        """)
    assert state == ["state", "CONFIRMED", 200, "Answering"]  # baresip's reason phrase
    est = bs.wait_event(lambda e: e.get("type") == "CALL_ESTABLISHED")
    assert est["direction"] == "incoming" and "sip:us@127.0.0.1" in est["peeruri"]
    heard = us.run("result = PROBE.heard(1.0)")
    assert heard["rms"] > 1000 and abs(heard["freq"] - F_BARESIP) < 20, heard
    # RFC 4733 digits from us reach baresip as DTMF events, in order.
    us.run("CALL.dial_dtmf('159#')")
    bs.wait_event(lambda e: sum(x.get("type") == "CALL_DTMF_START" for x in bs.events) >= 4)
    digits = [x["param"] for x in bs.events if x.get("type") == "CALL_DTMF_START"]
    assert "".join(digits) == "159#"
    us.run("CALL.hangup()")
    closed = bs.wait_event(lambda e: e.get("type") == "CALL_CLOSED")
    assert closed["direction"] == "incoming"
    level, freq = _heard_by_baresip(bs, before)
    assert level > 1000 and abs(freq - F_US) < 20, (level, freq)


def test_baresip_calls_us_audio_both_ways_and_its_hangup(
        ends: Tuple[Peer, Baresip]) -> None:
    us, bs = ends
    before = set(bs.recordings("dec"))
    uri = us.run("result = URI")
    assert bs.command("dial", uri)["ok"]
    inc = us.run("result = wait_event(lambda e: e[0] == 'incoming')")
    assert f"sip:{bs.user}@127.0.0.1" in inc[1] and "User-Agent: baresip" in inc[2]
    assert us.run("result = wait_event(lambda e: e[:2] == ('state', 'CONFIRMED'))")[2] == 200
    est = bs.wait_event(lambda e: e.get("type") == "CALL_ESTABLISHED")
    assert est["direction"] == "outgoing"
    heard = us.run("result = PROBE.heard(1.0)")
    assert heard["rms"] > 1000 and abs(heard["freq"] - F_BARESIP) < 20, heard
    assert bs.command("hangup")["ok"]
    last = us.run("result = wait_event(lambda e: e[:2] == ('state', 'DISCONNECTED'))")
    assert last[1] == "DISCONNECTED"
    bs.wait_event(lambda e: e.get("type") == "CALL_CLOSED")
    level, freq = _heard_by_baresip(bs, before)
    assert level > 1000 and abs(freq - F_US) < 20, (level, freq)




@pytest.mark.kamailio
def test_baresip_and_us_registered_at_kamailio_call_each_other(tmp_path: Path) -> None:
    from tests.media_support import tone, write_wav
    from tests.peers.kamailio import Kamailio

    mic = write_wav(str(tmp_path / "mic.wav"), tone(F_BARESIP, 30.0, 8000), 8000)
    kam = Kamailio(tmp_path / "kam", users={"alice": "alice-pw", "bs": "bs-pw"},
                   presence=False)
    with kam.start(), Peer("us") as us, \
            Baresip(tmp_path / "baresip", Path(mic), registrar=f"127.0.0.1:{kam.port}",
                    password="bs-pw") as bs:
        assert bs.wait_event(lambda e: e.get("type") == "REGISTER_OK")
        us.run(f"""
            from tests.secure_support import ToneProbe
            from tests.support import AnsweringAccount, CallLog
            from tests.media_support import only_codec
            LIB, tps = start()
            only_codec(LIB, "PCMU/8000/1")
            PROBE = ToneProbe(LIB, {F_US})
            cfg = pj.AccountConfig("127.0.0.1", "alice", "alice-pw",
                                   registrar="sip:127.0.0.1:{kam.port}",
                                   proxy="sip:127.0.0.1:{kam.port}")
            cfg.transport_id = tps[0]._id
            cfg.rtp_transport_cfg = pj.TransportConfig(0, "127.0.0.1", "127.0.0.1")
            CB = AnsweringAccount(EV, connect_to=PROBE.sink.slot,
                                  connect_from=PROBE.source.slot)
            ACC = LIB.create_account(cfg, cb=CB)
            result = wait_event(lambda e: e[0] == "reg", 10)
            """)
        # We call baresip by its address of record; kamailio finds it.
        before = set(bs.recordings("dec"))
        assert us.run("""
            CALL = ACC.make_call("sip:bs@127.0.0.1", CallLog(EV, connect_to=PROBE.sink.slot,
                                                             connect_from=PROBE.source.slot))
            result = wait_event(lambda e: e[0] == "state" and e[1] in
                                ("CONFIRMED", "DISCONNECTED"), 10)
            """)[1] == "CONFIRMED"
        bs.wait_event(lambda e: e.get("type") == "CALL_ESTABLISHED")
        heard = us.run("result = PROBE.heard(1.0)")
        assert heard["rms"] > 1000 and abs(heard["freq"] - F_BARESIP) < 20, heard
        us.run("CALL.hangup()")
        bs.wait_event(lambda e: e.get("type") == "CALL_CLOSED")
        level, freq = _heard_by_baresip(bs, before)
        assert level > 1000 and abs(freq - F_US) < 20, (level, freq)
        # And baresip calls our address of record through kamailio.
        us.run("EV.items.clear()")
        assert bs.command("dial", "sip:alice@127.0.0.1")["ok"]
        inc = us.run("result = wait_event(lambda e: e[0] == 'incoming', 10)")
        assert "Record-Route:" in inc[2] and "baresip" in inc[2]
        assert us.run("result = wait_event(lambda e: e[:2] == ('state', 'CONFIRMED'))")
        assert bs.command("hangup")["ok"]
        us.run("wait_event(lambda e: e[:2] == ('state', 'DISCONNECTED'))")
        log = kam.log_text()
    assert "REQ REGISTER" in log and "REQ INVITE sip:bs@127.0.0.1" in log, log[-3000:]
