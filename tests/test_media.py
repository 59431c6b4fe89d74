"""Media: codecs, calls carrying real audio, the conference bridge, WAV players,
playlists and recorders, sound devices through PortAudio/ALSA, media settings, and bad
input. Every scenario runs in its own process; audio is measured (energy, dominant
frequency), never assumed."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.media_support import scenario_head
from tests.support import run_scenario

pytest.importorskip("numpy")

HEAD = scenario_head("pjffi-media-")


def scenario(body: str, *args: str, timeout: float = 60.0, env: dict | None = None,
             expect_rc: int = 0) -> dict:
    return run_scenario(HEAD + textwrap.dedent(body), *args, timeout=timeout, env=env,
                        expect_rc=expect_rc)


# ---------------------------------------------------------------------------- codecs


def test_codecs_enumerated_with_parameters_and_settable() -> None:
    r = scenario("""
        lib, _ = ua_lib(quality=2)
        codecs = {c.name: vars(c) for c in lib.enum_codecs()}
        order = [c.name for c in lib.enum_codecs()]
        lib.set_codec_priority("G722", 250)
        order2 = [c.name for c in lib.enum_codecs()]
        lib.set_codec_priority("GSM", 0)
        gsm = [c.priority for c in lib.enum_codecs() if c.name.startswith("GSM")]
        p = lib.get_codec_parameter("PCMU")
        before = (p.ptime, p.vad_enabled, p.plc_enabled)
        p.ptime, p.vad_enabled, p.plc_enabled = 40, False, False
        lib.set_codec_parameter("PCMU", p)
        q = lib.get_codec_parameter("PCMU/8000/1")
        info = [c for c in lib.enum_codecs() if c.name == "PCMU/8000/1"][0]
        errors = {}
        for what, fn in [
            ("unknown_prio", lambda: lib.set_codec_priority("nosuch", 10)),
            ("unknown_get", lambda: lib.get_codec_parameter("nosuch/8000")),
            ("unknown_set", lambda: lib.set_codec_parameter("nosuch", p)),
            ("ambiguous", lambda: lib.get_codec_parameter("speex")),
        ]:
            try:
                fn()
                errors[what] = None
            except pj.Error as e:
                errors[what] = e.err_code
        kinds = {}
        for what, fn in [
            ("prio_range", lambda: lib.set_codec_priority("PCMU", 256)),
            ("prio_type", lambda: lib.set_codec_priority("PCMU", "high")),
            ("bad_ptime", lambda: lib.set_codec_parameter("PCMU", type(p)())),
            ("param_type", lambda: lib.set_codec_parameter("PCMU", {"ptime": 20})),
        ]:
            try:
                fn()
                kinds[what] = None
            except Exception as e:
                kinds[what] = type(e).__name__
        low_q = {n: c["avg_bps"] for n, c in codecs.items() if n.startswith("speex")}
        lib.destroy()
        lib, _ = ua_lib(quality=8)
        high_q = {c.name: c.avg_bps for c in lib.enum_codecs() if c.name.startswith("speex")}
        lib.destroy()
        report(codecs=codecs, order=order, order2=order2, gsm=gsm, before=before,
               after=(q.ptime, q.vad_enabled, q.plc_enabled),
               info=(info.ptime, info.frm_ptime, info.vad_enabled), errors=errors,
               kinds=kinds, low_q=low_q, high_q=high_q, ENOTFOUND=pj._binding.PJ_ENOTFOUND)
    """)
    codecs = r["codecs"]
    for name in ("PCMU/8000/1", "PCMA/8000/1", "G722/16000/1", "GSM/8000/1",
                 "speex/8000/1", "speex/16000/1", "speex/32000/1", "L16/44100/1",
                 "opus/48000/2"):
        assert name in codecs, sorted(codecs)
    for name, c in codecs.items():
        assert c["clock_rate"] == int(name.split("/")[1]), c
        assert c["channel_count"] >= 1 and c["frm_ptime"] > 0, c
        assert c["ptime"] >= c["frm_ptime"] and c["ptime"] % c["frm_ptime"] == 0, c
        assert c["avg_bps"] > 0 or name.startswith("opus"), c  # opus: bitrate is "auto"
        assert c["vad_enabled"] in (0, 1) and c["plc_enabled"] in (0, 1)  # ints, as legacy
    assert codecs["PCMU/8000/1"]["pt"] == 0 and codecs["PCMA/8000/1"]["pt"] == 8
    assert codecs["G722/16000/1"]["pt"] == 9 and codecs["GSM/8000/1"]["pt"] == 3
    assert codecs["speex/16000/1"]["pt"] >= 96 and codecs["opus/48000/2"]["pt"] >= 96
    assert codecs["PCMU/8000/1"]["avg_bps"] == 64000 and codecs["PCMU/8000/1"]["ptime"] == 20
    assert r["order"][0].startswith("speex/16000") and r["order2"][0] == "G722/16000/1"
    assert r["gsm"] == [0]
    assert r["before"] == [20, True, True] and r["after"] == [40, False, False]
    assert r["info"] == [40, 10, False]
    assert r["errors"]["unknown_prio"] == r["ENOTFOUND"]
    assert r["errors"]["unknown_get"] == -1  # as the legacy module reports it
    assert r["errors"]["unknown_set"] == r["ENOTFOUND"]
    assert r["errors"]["ambiguous"] is not None
    assert r["kinds"] == {"prio_range": "ValueError", "prio_type": "TypeError",
                          "bad_ptime": "ValueError", "param_type": "TypeError"}
    # MediaConfig.quality reaches the Speex encoder: a higher quality costs more bits.
    for name, bps in r["low_q"].items():
        assert r["high_q"][name] > bps, (name, bps, r["high_q"])


# ---------------------------------------------------------------------------- calls

CODEC_CALLS = """
    TONE = 1000.0
    lib, (tp,) = ua_lib(clock_rate=16000)
    write_wav(D + "/tone.wav", tone(TONE, 3.0, 16000), 16000)
    player = lib.create_player(D + "/tone.wav", loop=True)
    ev_b = Events()
    callee = AnsweringAccount(ev_b)
    ua_account(lib, tp, "bob", cb=callee, set_default=False)
    alice = ua_account(lib, tp, "alice")
    results = {}
    for codec in sys.argv[1].split(","):
        only_codec(lib, codec)
        rec = lib.create_recorder(f"{D}/{codec.replace('/', '_')}.wav")
        callee.connect_to = lib.recorder_get_slot(rec)
        ev_a, ev_b.items[:] = Events(), []
        call = alice.make_call(uri_of(tp, "bob"),
                               CallLog(ev_a, connect_from=lib.player_get_slot(player)))
        wait_state(ev_a, "CONFIRMED")
        slot = wait_media(ev_a)
        wait_media(ev_b)
        slot_info = lib.conf_get_port_info(slot)
        time.sleep(1.6)
        stats = lib.call_stream_stats(call)
        live_slot = call.info().conf_slot
        call.hangup()
        wait_state(ev_a, "DISCONNECTED")
        after_slot = raises(call.info)  # once the call ended, as in the legacy module
        lib.recorder_destroy(rec)
        x, rate = read_wav(f"{D}/{codec.replace('/', '_')}.wav")
        x = x[int(0.4 * rate):]
        results[codec] = dict(freq=dominant(x, rate), rms=rms(x), used=stats.codec,
                              rate=stats.clock_rate, tx=stats.tx_packets,
                              rx=stats.rx_packets, slot=slot, live_slot=live_slot,
                              slot_name=slot_info.name, after=after_slot)
    lib.destroy()
    report(results=results)
"""


@pytest.mark.parametrize("codecs", [
    "PCMU/8000/1,PCMA/8000/1,G722/16000/1",
    "speex/8000/1,speex/16000/1,opus/48000/2",
])
def test_tone_survives_each_codec(codecs: str) -> None:
    r = scenario(CODEC_CALLS, codecs)
    for codec, res in r["results"].items():
        name, rate = codec.split("/")[:2]
        assert res["used"].lower() == name.lower(), (codec, res)
        assert res["rms"] > 1000, (codec, res)
        assert abs(res["freq"] - 1000.0) <= 20.0, (codec, res)
        assert res["tx"] > 30 and res["rx"] > 30, (codec, res)
        # CallInfo.conf_slot names the call's bridge slot while media is active.
        assert res["slot"] >= 1 and res["live_slot"] == res["slot"], res
        assert res["after"][:3] == ["Error", "info", -1], res


def test_three_parties_hear_the_right_mix() -> None:
    r = scenario("""
        F_HOST, F_BOB, F_CAROL = 800.0, 500.0, 1250.0
        lib, (tp,) = ua_lib(clock_rate=16000)
        only_codec(lib, "PCMU/8000/1")
        players = {}
        for who, f in (("host", F_HOST), ("bob", F_BOB), ("carol", F_CAROL)):
            write_wav(f"{D}/{who}.wav", tone(f, 2.0, 16000, 0.25), 16000)
            players[who] = lib.player_get_slot(lib.create_player(f"{D}/{who}.wav", loop=True))
        ev = {"bob": Events(), "carol": Events()}
        for who in ("bob", "carol"):
            ua_account(lib, tp, who, set_default=False,
                       cb=AnsweringAccount(ev[who], connect_from=players[who]))
        host = ua_account(lib, tp, "host")
        hev = {who: Events() for who in ("bob", "carol")}
        calls = {who: host.make_call(uri_of(tp, who), CallLog(hev[who])) for who in ev}
        hs = {who: wait_media(hev[who]) for who in ev}
        ps = {who: wait_media(ev[who]) for who in ev}
        # The host's conference: its player and both calls, nobody hears itself.
        lib.conf_connect(players["host"], hs["bob"])
        lib.conf_connect(players["host"], hs["carol"])
        lib.conf_connect(hs["bob"], hs["carol"])
        lib.conf_connect(hs["carol"], hs["bob"])

        def record(phase):
            recs = {}
            for who in ("bob", "carol", "host"):
                recs[who] = lib.create_recorder(f"{D}/{phase}-{who}.wav")
            lib.conf_connect(ps["bob"], lib.recorder_get_slot(recs["bob"]))
            lib.conf_connect(ps["carol"], lib.recorder_get_slot(recs["carol"]))
            lib.conf_connect(hs["bob"], lib.recorder_get_slot(recs["host"]))
            lib.conf_connect(hs["carol"], lib.recorder_get_slot(recs["host"]))
            time.sleep(1.5)
            out = {}
            for who, rid in recs.items():
                lib.recorder_destroy(rid)
                x, rate = read_wav(f"{D}/{phase}-{who}.wav")
                x = x[int(0.3 * rate):]
                out[who] = dict(rms=rms(x), host=band(x, rate, F_HOST),
                                bob=band(x, rate, F_BOB), carol=band(x, rate, F_CAROL))
            return out

        mix = record("mix")
        lib.conf_set_tx_level(hs["carol"], 0)
        muted = record("muted")
        lib.conf_set_tx_level(hs["carol"], 1.0)
        restored = record("restored")
        for c in calls.values():
            c.hangup()
        lib.destroy()
        report(mix=mix, muted=muted, restored=restored)
    """)
    mix, muted, restored = r["mix"], r["muted"], r["restored"]
    # Each party hears the two others, and (next to nothing of) itself.
    for who, others in (("bob", ("host", "carol")), ("carol", ("host", "bob")),
                        ("host", ("bob", "carol"))):
        for other in others:
            assert mix[who][other] > 0.2, (who, other, mix[who])
        assert mix[who][who] < 0.02, (who, mix[who])
    # conf_set_tx_level(slot, 0) silences what the bridge sends to that slot only.
    assert muted["carol"]["rms"] < 0.01 * mix["carol"]["rms"], (muted, mix)
    assert muted["bob"]["rms"] > 0.7 * mix["bob"]["rms"], (muted, mix)
    assert restored["carol"]["rms"] > 0.7 * mix["carol"]["rms"], (restored, mix)


# ---------------------------------------------------------------------------- WAV


def test_players_playlists_recorders_and_levels() -> None:
    r = scenario("""
        RATE = 16000
        lib, _ = ua_lib(clock_rate=RATE, snd_auto_close_time=1)
        A, B, C3 = 400.0, 800.0, 1200.0
        for f in (A, B, C3):
            write_wav(f"{D}/{int(f)}.wav", tone(f, 0.4, RATE), RATE)
        write_wav(f"{D}/ab.wav", np.concatenate([tone(A, 0.5, RATE), tone(B, 0.5, RATE)]),
                  RATE)
        files = [f"{D}/{int(f)}.wav" for f in (A, B, C3)]
        eofs = Events()
        out = {}

        def capture(slot, seconds, name, during=None):
            rec = lib.create_recorder(f"{D}/{name}.wav")
            lib.conf_connect(slot, lib.recorder_get_slot(rec))
            if during:
                during()
            time.sleep(seconds)
            lib.recorder_destroy(rec)
            x, rate = read_wav(f"{D}/{name}.wav")  # valid as soon as destroy returned
            return x, rate

        snap = [A, B, C3]
        # A playlist without loop plays each file once, in order, then falls silent.
        pl = lib.create_playlist(files, "three", loop=False,
                                 on_eof=lambda pid: eofs.add(("playlist", pid)))
        x, rate = capture(lib.playlist_get_slot(pl), 1.7, "playlist")
        out["playlist"] = tone_sequence(x, rate, snap=snap)
        out["playlist_tail_rms"] = rms(x[-int(0.3 * rate):])
        out["playlist_eof"] = eofs.wait(lambda e: ("playlist", pl) in e, 2)
        out["playlist_eof_count"] = sum(1 for e in eofs.items if e[0] == "playlist")
        lib.playlist_destroy(pl)
        # With loop it starts over.
        pl = lib.create_playlist(files, "looping", loop=True)
        x, rate = capture(lib.playlist_get_slot(pl), 2.2, "playlist-loop")
        out["playlist_loop"] = tone_sequence(x, rate, snap=snap)
        lib.playlist_destroy(pl)

        # player_set_pos rewinds; player_get_pos follows the playback.
        p = lib.create_player(f"{D}/ab.wav", loop=False,
                              on_eof=lambda pid: eofs.add(("player", pid)))
        positions = []
        def rewind_later():
            time.sleep(0.75)
            positions.append(lib.player_get_pos(p))
            lib.player_set_pos(p, 0)
            time.sleep(0.1)
            positions.append(lib.player_get_pos(p))
        x, rate = capture(lib.player_get_slot(p), 1.3, "rewind", during=rewind_later)
        out["rewind"] = tone_sequence(x, rate, snap=[A, B])
        out["positions"] = positions
        out["player_len"] = lib.player_get_len(p)
        out["player_eof"] = eofs.wait(lambda e: ("player", p) in e, 2)
        lib.player_destroy(p)

        # conf_get_signal_level follows a playing file, and drops to 0 after its end.
        p = lib.create_player(f"{D}/ab.wav", loop=False)
        rec = lib.create_recorder(f"{D}/level.wav")
        ps = lib.player_get_slot(p)
        lib.conf_connect(ps, lib.recorder_get_slot(rec))
        levels = []
        for _ in range(30):
            time.sleep(0.05)
            levels.append(lib.conf_get_signal_level(ps)[1])
        out["levels"] = levels
        out["rec_tx_level"] = lib.conf_get_signal_level(lib.recorder_get_slot(rec))[0]
        lib.recorder_destroy(rec)
        lib.player_destroy(p)

        # Levels: 1.0 leaves the signal alone, 0.5 halves it, 0 mutes (tx and rx).
        p = lib.create_player(f"{D}/400.wav", loop=True)
        ps = lib.player_get_slot(p)
        gains = {}
        for name, fn in (("tx1", lambda s, r: lib.conf_set_tx_level(r, 1.0)),
                         ("tx05", lambda s, r: lib.conf_set_tx_level(r, 0.5)),
                         ("tx0", lambda s, r: lib.conf_set_tx_level(r, 0)),
                         ("rx0", lambda s, r: lib.conf_set_rx_level(s, 0)),
                         ("rx1", lambda s, r: lib.conf_set_rx_level(s, 1.0))):
            rec = lib.create_recorder(f"{D}/gain-{name}.wav")
            rs = lib.recorder_get_slot(rec)
            fn(ps, rs)
            lib.conf_connect(ps, rs)
            time.sleep(0.4)
            lib.recorder_destroy(rec)
            x, rate = read_wav(f"{D}/gain-{name}.wav")
            gains[name] = rms(x[int(0.1 * rate):])
        out["gains"] = gains
        out["reference_rms"] = rms(tone(400, 0.4, RATE))
        lib.player_destroy(p)

        # A recorder whose clock stopped (sound device closed when idle) still gives a
        # complete file on destroy.
        rec = lib.create_recorder(f"{D}/idle.wav")
        p = lib.create_player(f"{D}/400.wav", loop=True)
        lib.conf_connect(lib.player_get_slot(p), lib.recorder_get_slot(rec))
        time.sleep(0.5)
        lib.player_destroy(p)
        time.sleep(1.8)  # > snd_auto_close_time: the null device closes
        t0 = time.monotonic()
        lib.recorder_destroy(rec)
        out["idle_destroy_s"] = time.monotonic() - t0
        x, rate = read_wav(f"{D}/idle.wav")
        out["idle_len"] = len(x) / rate
        lib.destroy()
        report(**out)
    """)
    assert r["playlist"] == [400, 800, 1200], r["playlist"]
    assert r["playlist_tail_rms"] < 50, r
    assert r["playlist_eof"] and r["playlist_eof_count"] == 1, r
    assert r["playlist_loop"][:5] == [400, 800, 1200, 400, 800], r["playlist_loop"]
    assert r["rewind"] == [400, 800, 400, 800], r["rewind"]
    before, after = r["positions"]
    assert 0.6 * 16000 < before <= 16000 and after < 0.25 * 16000, r["positions"]
    assert r["player_len"] == 16000 and r["player_eof"]
    levels = r["levels"]
    assert min(levels[2:15]) > 0.2, levels          # playing (1 s file)
    assert max(levels[-6:]) == 0.0, levels           # ended
    assert r["rec_tx_level"] == 0.0                  # nothing sent to the recorder now
    g, ref = r["gains"], r["reference_rms"]
    assert 0.9 * ref < g["tx1"] < 1.1 * ref, (g, ref)
    assert 0.4 * ref < g["tx05"] < 0.6 * ref, (g, ref)
    assert g["tx0"] < 0.01 * ref and g["rx0"] < 0.01 * ref, (g, ref)
    assert 0.9 * ref < g["rx1"] < 1.1 * ref, (g, ref)
    assert r["idle_len"] >= 0.4 and r["idle_destroy_s"] < 4.0, r


# ---------------------------------------------------------------------------- settings


def test_media_config_takes_effect() -> None:
    r = scenario("""
        def one_call(seconds=1.2, play=True, **media):
            lib, (tp,) = ua_lib(**media)
            only_codec(lib, "PCMU/8000/1")
            rate = lib.conf_get_port_info(0).clock_rate
            write_wav(D + "/t.wav", tone(700, 2, rate), rate)
            p = lib.create_player(D + "/t.wav", loop=True)
            rec = lib.create_recorder(D + "/heard.wav")
            ev_b = Events()
            ua_account(lib, tp, "bob", set_default=False,
                       cb=AnsweringAccount(ev_b, connect_to=lib.recorder_get_slot(rec)))
            alice = ua_account(lib, tp, "alice")
            ev_a = Events()
            call = alice.make_call(uri_of(tp, "bob"), CallLog(
                ev_a, connect_from=lib.player_get_slot(p) if play else None))
            wait_media(ev_a)
            wait_media(ev_b)
            time.sleep(seconds)
            stats = vars(lib.call_stream_stats(call))
            port0 = vars(lib.conf_get_port_info(0))
            ec = lib.get_ec_tail()
            call.hangup()
            wait_state(ev_a, "DISCONNECTED")
            lib.recorder_destroy(rec)
            x, wav_rate = read_wav(D + "/heard.wav")
            lib.destroy()
            x = x[int(0.3 * wav_rate):]
            return dict(stats=stats, port0=port0, ec=ec, wav_rate=wav_rate, rms=rms(x),
                        freq=dominant(x, wav_rate))

        out = {}
        out["base"] = one_call()
        out["narrow"] = one_call(clock_rate=8000, audio_frame_ptime=10, ptime=40,
                                 ec_tail_len=100, jb_max=200, jb_min=60)
        out["vad_on"] = one_call(seconds=2.0, play=False, no_vad=False)
        out["vad_off"] = one_call(seconds=2.0, play=False, no_vad=True)
        out["tx_drop"] = one_call(tx_drop_pct=100)
        out["rx_drop"] = one_call(rx_drop_pct=100)
        out["rx_half"] = one_call(seconds=2.0, rx_drop_pct=50)
        report(**out)
    """, timeout=90)
    base, narrow = r["base"], r["narrow"]
    assert base["port0"]["clock_rate"] == 16000 and base["port0"]["samples_per_frame"] == 320
    assert base["wav_rate"] == 16000 and abs(base["freq"] - 700) < 14 and base["rms"] > 1000
    # pjsua's default echo tail (200 ms): MediaConfig() holds pjsua's runtime defaults
    assert base["stats"]["ptime"] == 20 and base["ec"] == 200
    # clock_rate and audio_frame_ptime shape the bridge (and recordings).
    assert narrow["port0"]["clock_rate"] == 8000 and narrow["port0"]["samples_per_frame"] == 80
    assert narrow["wav_rate"] == 8000 and abs(narrow["freq"] - 700) < 14
    # ptime is the codec's packet time; ec_tail_len the echo canceller's tail.
    assert narrow["stats"]["ptime"] == 40 and narrow["ec"] == 100
    # jb_max / jb_min: the jitter buffer's capacity and minimum prefetch, in frames of
    # the codec (10 ms for PCMU); pjsua's defaults are 500 ms and 1 frame.
    assert narrow["stats"]["jb_max_count"] == 200 // 10, narrow["stats"]
    assert narrow["stats"]["jb_min_prefetch"] == 60 // 10, narrow["stats"]
    assert base["stats"]["jb_max_count"] == 50 and base["stats"]["jb_min_prefetch"] == 1
    # VAD: a silent caller sends far fewer packets with VAD on.
    assert r["vad_off"]["stats"]["tx_packets"] > 80, r["vad_off"]["stats"]
    assert r["vad_on"]["stats"]["tx_packets"] < 0.6 * r["vad_off"]["stats"]["tx_packets"], r
    # Simulated loss: 100 % makes the call silent, 50 % loses about half.
    for key in ("tx_drop", "rx_drop"):
        assert r[key]["rms"] < 50 and r[key]["stats"]["rx_packets"] == 0, (key, r[key])
    half = r["rx_half"]["stats"]
    assert 0.3 < half["rx_packets"] / half["tx_packets"] < 0.7, half


# ---------------------------------------------------------------------------- sound devices

ALSA_SCENARIO = """
    import errno, fcntl, threading
    RATE = 16000
    play, cap = D + "/play.fifo", D + "/cap.fifo"
    for f in (play, cap):
        os.mkfifo(f)
    with open(D + "/asound.conf", "w") as fh:
        fh.write(f'''
    pcm.!default {{
        type asym
        playback.pcm {{ type file; slave.pcm "null"; file "{play}"; format "raw" }}
        capture.pcm {{ type file; slave.pcm "null"; file "/dev/null"; infile "{cap}";
                       format "raw" }}
    }}
    ''')
    # Only now may ALSA read its configuration (PortAudio starts in lib.init()).
    os.environ["ALSA_CONFIG_PATH"] = "/usr/share/alsa/alsa.conf:" + D + "/asound.conf"
    heard = bytearray()
    stop = threading.Event()

    def paced(fd, n, t0):
        ahead = n / (2 * RATE) - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)

    def speaker():  # plays the part of the sound card's output: 16 kHz, real time
        while not stop.is_set():
            fd = os.open(play, os.O_RDONLY)
            fcntl.fcntl(fd, 1031, 4096)  # F_SETPIPE_SZ: keep the card's buffer small
            t0, n = time.monotonic(), 0
            while True:
                d = os.read(fd, 640)
                if not d:
                    break
                heard.extend(d)
                n += len(d)
                paced(fd, n, t0)
            os.close(fd)

    def microphone():  # the card's input: a 700 Hz tone in real time
        data = tone(700, 1.0, RATE).astype("<i2").tobytes()
        while not stop.is_set():
            fd = os.open(cap, os.O_WRONLY)
            fcntl.fcntl(fd, 1031, 4096)
            t0, n = time.monotonic(), 0
            try:
                while not stop.is_set():
                    off = n % len(data)
                    n += os.write(fd, data[off:off + 640])
                    paced(fd, n, t0)
            except BrokenPipeError:
                pass
            os.close(fd)

    for fn in (speaker, microphone):
        threading.Thread(target=fn, daemon=True).start()

    lib = pj.Lib()
    mc = pj.MediaConfig()
    mc.enable_ice, mc.no_vad, mc.clock_rate = False, True, RATE
    mc.ec_tail_len = 0  # the two FIFOs drift: speexdsp's canceller would print warnings
    ua = pj.UAConfig()
    lib.init(ua, pj.LogConfig(level=1, console_level=1), mc)
    tp = lib.create_transport(pj.TransportType.UDP, pj.TransportConfig(0, "127.0.0.1",
                                                                       "127.0.0.1"))
    lib.start()
    devs = [vars(d) for d in lib.enum_snd_dev()]
    idx = [d["name"] for d in devs].index("default")
    lib.set_snd_dev(idx, idx)
    current = lib.get_snd_dev()
    only_codec(lib, "PCMU/8000/1")
    # bob's call is wired to the sound card (slot 0) both ways; alice plays 1 kHz and
    # records what bob's microphone sends.
    write_wav(D + "/t.wav", tone(1000, 2.0, RATE), RATE)
    p = lib.create_player(D + "/t.wav", loop=True)
    rec = lib.create_recorder(D + "/alice.wav")
    ev_b, ev_a = Events(), Events()
    ua_account(lib, tp, "bob", set_default=False,
               cb=AnsweringAccount(ev_b, connect_to=0, connect_from=0))
    alice = ua_account(lib, tp, "alice")
    call = alice.make_call(uri_of(tp, "bob"), CallLog(
        ev_a, connect_from=lib.player_get_slot(p), connect_to=lib.recorder_get_slot(rec)))
    wait_media(ev_a)
    wait_media(ev_b)
    mark = len(heard)
    time.sleep(2.0)
    spk = np.frombuffer(bytes(heard[mark:mark + (len(heard) - mark) // 2 * 2]), "<i2")
    call.hangup()
    wait_state(ev_a, "DISCONNECTED")
    lib.recorder_destroy(rec)
    errors = {}
    for what, fn in (("bad_index", lambda: lib.set_snd_dev(57, 57)),
                     ("bad_type", lambda: lib.set_snd_dev("default", 0))):
        try:
            fn()
            errors[what] = None
        except Exception as e:
            errors[what] = type(e).__name__
    lib.destroy()
    stop.set()
    mic, rate = read_wav(D + "/alice.wav")
    mic = mic[int(0.5 * rate):]
    spk = spk[int(0.5 * RATE):]
    report(devs=devs, current=current, errors=errors, spk_rms=rms(spk),
           spk_freq=dominant(spk, RATE), mic_rms=rms(mic), mic_freq=dominant(mic, rate))
"""


def test_sound_device_through_portaudio_and_alsa() -> None:
    r = scenario(ALSA_SCENARIO)
    names = [d["name"] for d in r["devs"]]
    assert "default" in names, r["devs"]
    default = r["devs"][names.index("default")]
    assert default["input_channels"] > 0 and default["output_channels"] > 0
    idx = names.index("default")
    assert r["current"] == [idx, idx]
    # The call reached the "speakers", and the "microphone" reached the call.
    assert r["spk_rms"] > 1000 and abs(r["spk_freq"] - 1000) < 20, r
    assert r["mic_rms"] > 1000 and abs(r["mic_freq"] - 700) < 14, r
    assert r["errors"] == {"bad_index": "Error", "bad_type": "TypeError"}
    # Quiet logging: nothing from ALSA, JACK or PortAudio reached the terminal.
    assert r["_stderr"].strip() == "", r["_stderr"]
    noise = [ln for ln in r["_stdout"].splitlines() if not ln.startswith("@@REPORT@@")]
    assert noise == [] or all("RTP socket bind()" in ln for ln in noise), noise


def test_no_sound_card_is_quiet_and_refused() -> None:
    r = scenario("""
        import logging
        os.environ["ALSA_CONFIG_PATH"] = "/usr/share/alsa/alsa.conf"
        logged = []
        class Keep(logging.Handler):
            def emit(self, record):
                logged.append(record.getMessage())
        logging.getLogger("pjsua_ffi.pjsip").addHandler(Keep())
        logging.getLogger("pjsua_ffi.pjsip").setLevel(1)
        lib = pj.Lib()
        # Everything into the log, nothing on the console.
        lib.init(pj.UAConfig(), pj.LogConfig(level=6, console_level=1), pj.MediaConfig())
        lib.start()
        devs = lib.enum_snd_dev()
        try:
            lib.set_snd_dev(0, 0)
            err = None
        except pj.Error as e:
            err = e.err_code
        lib.set_null_snd_dev()
        lib.destroy()
        report(devs=len(devs), err=err,
               alsa=[ln for ln in logged if "Unknown PCM" in ln or "find card" in ln],
               jack=[ln for ln in logged if "jack" in ln.lower()])
    """)
    assert r["devs"] == 0 and r["err"] is not None
    # ALSA and JACK did complain (no card, no JACK server) - into the log only.
    assert r["alsa"] and r["jack"], r
    assert r["_stderr"].strip() == "", r["_stderr"]
    console = [ln for ln in r["_stdout"].splitlines() if not ln.startswith("@@REPORT@@")]
    for line in r["alsa"][:3] + r["jack"][:3]:
        assert not any(line in c for c in console), (line, console)


# ---------------------------------------------------------------------------- bad input


def test_bad_input_raises_and_never_crashes(tmp_path: Path) -> None:
    text = tmp_path / "notes.wav"
    text.write_text("this is not a WAV file\n" * 20)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    head = tmp_path / "header.wav"
    head.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    r = scenario("""
        lib, (tp,) = ua_lib()
        write_wav(D + "/ok.wav", tone(440, 0.5, 16000), 16000)
        text, empty, head = sys.argv[1:4]
        pl = lib.create_playlist([D + "/ok.wav"])  # first: pjsua reuses freed ids
        okp = lib.create_player(D + "/ok.wav")
        destroyed = lib.create_player(D + "/ok.wav")
        dslot = lib.player_get_slot(destroyed)
        lib.player_destroy(destroyed)
        rec = lib.create_recorder(D + "/r.wav")
        lib.recorder_destroy(rec)
        cases = {
            "missing_file": lambda: lib.create_player(D + "/nope.wav"),
            "not_wav": lambda: lib.create_player(text),
            "empty_wav": lambda: lib.create_player(empty),
            "header_only": lambda: lib.create_player(head),
            "dir_as_file": lambda: lib.create_player(D),
            "playlist_missing": lambda: lib.create_playlist([D + "/ok.wav", D + "/x.wav"]),
            "playlist_not_wav": lambda: lib.create_playlist([text]),
            "playlist_empty": lambda: lib.create_playlist([]),
            "long_name": lambda: lib.create_player(D + "/" + "x" * 300 + ".wav"),
            "unknown_player": lambda: lib.player_get_slot(99),
            "destroyed_player": lambda: lib.player_set_pos(destroyed, 0),
            "destroy_twice": lambda: lib.player_destroy(destroyed),
            "negative_player": lambda: lib.player_destroy(-1),
            "unknown_recorder": lambda: lib.recorder_get_slot(7),
            "destroyed_recorder": lambda: lib.recorder_destroy(rec),
            "recorder_not_wav": lambda: lib.create_recorder(D + "/out.mp3"),
            "recorder_short": lambda: lib.create_recorder("a"),
            "recorder_bad_dir": lambda: lib.create_recorder(D + "/no/such/dir/r.wav"),
            "connect_destroyed": lambda: lib.conf_connect(dslot, 0),
            "connect_unknown": lambda: lib.conf_connect(0, 60),
            "connect_negative": lambda: lib.conf_connect(-1, 0),
            "connect_huge": lambda: lib.conf_connect(0, 2 ** 31 - 1),
            "disconnect_unknown": lambda: lib.conf_disconnect(0, 61),
            "tx_negative": lambda: lib.conf_set_tx_level(0, -0.5),
            "rx_negative": lambda: lib.conf_set_rx_level(0, -1),
            "tx_nan": lambda: lib.conf_set_tx_level(0, float("nan")),
            "tx_unknown_slot": lambda: lib.conf_set_tx_level(55, 1.0),
            "level_unknown_slot": lambda: lib.conf_get_signal_level(55),
            "port_info_unknown": lambda: lib.conf_get_port_info(55),
            "unknown_codec": lambda: lib.set_codec_priority("G729", 100),
            "unknown_codec_param": lambda: lib.get_codec_parameter("iLBC"),
            "playlist_pos": lambda: lib.player_set_pos(pl, 0),
        }
        types = {
            "slot_str": lambda: lib.conf_connect("0", 1),
            "slot_float": lambda: lib.conf_connect(0.0, 1),
            "slot_bool": lambda: lib.conf_connect(True, 1),
            "level_str": lambda: lib.conf_set_tx_level(0, "loud"),
            "player_name_type": lambda: lib.create_player(b"/tmp/x.wav"),
            "player_id_type": lambda: lib.player_destroy("0"),
            "playlist_str": lambda: lib.create_playlist("abc.wav"),
            "pos_negative": lambda: lib.player_set_pos(okp, -5),
            "nul_name": lambda: lib.create_player("a\\x00b.wav"),
        }
        got = {}
        for name, fn in {**cases, **types}.items():
            try:
                fn()
                got[name] = "no error"
            except pj.Error as e:
                got[name] = "Error"
            except (TypeError, ValueError) as e:
                got[name] = type(e).__name__
        lib.player_destroy(pl)
        alive = lib.conf_get_max_ports()
        lib.destroy()
        after = {}
        for name, fn in (("player", lambda: lib.create_player(D + "/ok.wav")),
                         ("connect", lambda: lib.conf_connect(0, 0)),
                         ("codecs", lambda: lib.enum_codecs())):
            try:
                fn()
                after[name] = "no error"
            except pj.Error:
                after[name] = "Error"
        report(got=got, alive=alive, after=after)
    """, str(text), str(empty), str(head))
    got = r["got"]
    type_cases = {"slot_str", "slot_float", "slot_bool", "level_str", "player_name_type",
                  "player_id_type", "playlist_str"}
    for name, kind in got.items():
        if name in type_cases:
            assert kind == "TypeError", (name, kind)
        elif name in ("pos_negative", "nul_name"):
            assert kind == "ValueError", (name, kind)
        else:
            assert kind == "Error", (name, kind)
    assert r["alive"] > 0
    assert r["after"] == {"player": "Error", "connect": "Error", "codecs": "Error"}


def test_demo_still_works() -> None:
    r = run_scenario("import sys; from pjsua_ffi.__main__ import main; sys.exit(main(['demo']))",
                     timeout=60)
    assert "OK: the tone crossed the call" in r["_stdout"], r["_stdout"]

