"""Scenarios of tests/test_media.py (each runs in its own process)."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Any, Dict

import numpy as np

import pjsua_ffi as pj
from pjsua_ffi.__main__ import main as cli_main
from tests.media_support import (
    band,
    dominant,
    only_codec,
    read_wav,
    rms,
    tone,
    tone_sequence,
    wait_media,
    wait_state,
    write_wav,
)
from tests.scenarios import main
from tests.scenarios.common import media_dir
from tests.support import (
    AnsweringAccount,
    CallLog,
    Events,
    raises,
    report,
    ua_account,
    ua_lib,
    uri_of,
)


def codecs_enumerated_with_parameters_and_settable() -> None:
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
    errors: Dict[str, Any] = {}
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
    kinds: Dict[str, Any] = {}
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


def tone_survives_each_codec(codecs: str) -> None:
    tmp = media_dir("pjffi-media-")
    TONE = 1000.0  # noqa: N806
    lib, (tp,) = ua_lib(clock_rate=16000)
    write_wav(tmp + "/tone.wav", tone(TONE, 3.0, 16000), 16000)
    player = lib.create_player(tmp + "/tone.wav", loop=True)
    ev_b = Events()
    callee = AnsweringAccount(ev_b)
    ua_account(lib, tp, "bob", cb=callee, set_default=False)
    alice = ua_account(lib, tp, "alice")
    results: Dict[str, Any] = {}
    for codec in codecs.split(","):
        only_codec(lib, codec)
        rec = lib.create_recorder(f"{tmp}/{codec.replace('/', '_')}.wav")
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
        x, rate = read_wav(f"{tmp}/{codec.replace('/', '_')}.wav")
        x = x[int(0.4 * rate):]
        results[codec] = dict(freq=dominant(x, rate), rms=rms(x), used=stats.codec,
                              rate=stats.clock_rate, tx=stats.tx_packets,
                              rx=stats.rx_packets, slot=slot, live_slot=live_slot,
                              slot_name=slot_info.name, after=after_slot)
    lib.destroy()
    report(results=results)


def three_parties_hear_the_right_mix() -> None:
    tmp = media_dir("pjffi-media-")
    F_HOST, F_BOB, F_CAROL = 800.0, 500.0, 1250.0  # noqa: N806
    lib, (tp,) = ua_lib(clock_rate=16000)
    only_codec(lib, "PCMU/8000/1")
    players: Dict[str, Any] = {}
    for who, f in (("host", F_HOST), ("bob", F_BOB), ("carol", F_CAROL)):
        write_wav(f"{tmp}/{who}.wav", tone(f, 2.0, 16000, 0.25), 16000)
        players[who] = lib.player_get_slot(lib.create_player(f"{tmp}/{who}.wav", loop=True))
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
            recs[who] = lib.create_recorder(f"{tmp}/{phase}-{who}.wav")
        lib.conf_connect(ps["bob"], lib.recorder_get_slot(recs["bob"]))
        lib.conf_connect(ps["carol"], lib.recorder_get_slot(recs["carol"]))
        lib.conf_connect(hs["bob"], lib.recorder_get_slot(recs["host"]))
        lib.conf_connect(hs["carol"], lib.recorder_get_slot(recs["host"]))
        time.sleep(1.5)
        out = {}
        for who, rid in recs.items():
            lib.recorder_destroy(rid)
            x, rate = read_wav(f"{tmp}/{phase}-{who}.wav")
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


def players_playlists_recorders_and_levels() -> None:
    tmp = media_dir("pjffi-media-")
    RATE = 16000  # noqa: N806
    lib, _ = ua_lib(clock_rate=RATE, snd_auto_close_time=1)
    A, B, C3 = 400.0, 800.0, 1200.0  # noqa: N806
    for f in (A, B, C3):
        write_wav(f"{tmp}/{int(f)}.wav", tone(f, 0.4, RATE), RATE)
    write_wav(f"{tmp}/ab.wav", np.concatenate([tone(A, 0.5, RATE), tone(B, 0.5, RATE)]),
              RATE)
    files = [f"{tmp}/{int(f)}.wav" for f in (A, B, C3)]
    eofs = Events()
    out: Dict[str, Any] = {}

    def capture(slot, seconds, name, during=None):
        rec = lib.create_recorder(f"{tmp}/{name}.wav")
        lib.conf_connect(slot, lib.recorder_get_slot(rec))
        if during:
            during()
        time.sleep(seconds)
        lib.recorder_destroy(rec)
        x, rate = read_wav(f"{tmp}/{name}.wav")  # valid as soon as destroy returned
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
    p = lib.create_player(f"{tmp}/ab.wav", loop=False,
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
    p = lib.create_player(f"{tmp}/ab.wav", loop=False)
    rec = lib.create_recorder(f"{tmp}/level.wav")
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
    p = lib.create_player(f"{tmp}/400.wav", loop=True)
    ps = lib.player_get_slot(p)
    gains: Dict[str, Any] = {}
    for name, fn in (("tx1", lambda s, r: lib.conf_set_tx_level(r, 1.0)),
                     ("tx05", lambda s, r: lib.conf_set_tx_level(r, 0.5)),
                     ("tx0", lambda s, r: lib.conf_set_tx_level(r, 0)),
                     ("rx0", lambda s, r: lib.conf_set_rx_level(s, 0)),
                     ("rx1", lambda s, r: lib.conf_set_rx_level(s, 1.0))):
        rec = lib.create_recorder(f"{tmp}/gain-{name}.wav")
        rs = lib.recorder_get_slot(rec)
        fn(ps, rs)
        lib.conf_connect(ps, rs)
        time.sleep(0.4)
        lib.recorder_destroy(rec)
        x, rate = read_wav(f"{tmp}/gain-{name}.wav")
        gains[name] = rms(x[int(0.1 * rate):])
    out["gains"] = gains
    out["reference_rms"] = rms(tone(400, 0.4, RATE))
    lib.player_destroy(p)

    # A recorder whose clock stopped (sound device closed when idle) still gives a
    # complete file on destroy.
    rec = lib.create_recorder(f"{tmp}/idle.wav")
    p = lib.create_player(f"{tmp}/400.wav", loop=True)
    lib.conf_connect(lib.player_get_slot(p), lib.recorder_get_slot(rec))
    time.sleep(0.5)
    lib.player_destroy(p)
    time.sleep(1.8)  # > snd_auto_close_time: the null device closes
    t0 = time.monotonic()
    lib.recorder_destroy(rec)
    out["idle_destroy_s"] = time.monotonic() - t0
    x, rate = read_wav(f"{tmp}/idle.wav")
    out["idle_len"] = len(x) / rate
    lib.destroy()
    report(**out)


def media_config_takes_effect() -> None:
    tmp = media_dir("pjffi-media-")
    def one_call(seconds=1.2, play=True, **media):
        lib, (tp,) = ua_lib(**media)
        only_codec(lib, "PCMU/8000/1")
        rate = lib.conf_get_port_info(0).clock_rate
        write_wav(tmp + "/t.wav", tone(700, 2, rate), rate)
        p = lib.create_player(tmp + "/t.wav", loop=True)
        rec = lib.create_recorder(tmp + "/heard.wav")
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
        x, wav_rate = read_wav(tmp + "/heard.wav")
        lib.destroy()
        x = x[int(0.3 * wav_rate):]
        return dict(stats=stats, port0=port0, ec=ec, wav_rate=wav_rate, rms=rms(x),
                    freq=dominant(x, wav_rate))

    out: Dict[str, Any] = {}
    out["base"] = one_call()
    out["narrow"] = one_call(clock_rate=8000, audio_frame_ptime=10, ptime=40,
                             ec_tail_len=100, jb_max=200, jb_min=60)
    out["vad_on"] = one_call(seconds=2.0, play=False, no_vad=False)
    out["vad_off"] = one_call(seconds=2.0, play=False, no_vad=True)
    out["tx_drop"] = one_call(tx_drop_pct=100)
    out["rx_drop"] = one_call(rx_drop_pct=100)
    out["rx_half"] = one_call(seconds=2.0, rx_drop_pct=50)
    report(**out)


def sound_device_through_portaudio_and_alsa() -> None:
    tmp = media_dir("pjffi-media-")
    import fcntl
    RATE = 16000  # noqa: N806
    play, cap = tmp + "/play.fifo", tmp + "/cap.fifo"
    for f in (play, cap):
        os.mkfifo(f)
    with open(tmp + "/asound.conf", "w") as fh:
        fh.write(f'''
    pcm.!default {{
        type asym
        playback.pcm {{ type file; slave.pcm "null"; file "{play}"; format "raw" }}
        capture.pcm {{ type file; slave.pcm "null"; file "/dev/null"; infile "{cap}";
                       format "raw" }}
    }}
    ''')
    # Only now may ALSA read its configuration (PortAudio starts in lib.init()).
    os.environ["ALSA_CONFIG_PATH"] = "/usr/share/alsa/alsa.conf:" + tmp + "/asound.conf"
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
    write_wav(tmp + "/t.wav", tone(1000, 2.0, RATE), RATE)
    p = lib.create_player(tmp + "/t.wav", loop=True)
    rec = lib.create_recorder(tmp + "/alice.wav")
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
    errors: Dict[str, Any] = {}
    for what, fn in (("bad_index", lambda: lib.set_snd_dev(57, 57)),
                     ("bad_type", lambda: lib.set_snd_dev("default", 0))):  # type: ignore[arg-type]
        try:
            fn()
            errors[what] = None
        except Exception as e:
            errors[what] = type(e).__name__
    lib.destroy()
    stop.set()
    mic, rate = read_wav(tmp + "/alice.wav")
    mic = mic[int(0.5 * rate):]
    spk = spk[int(0.5 * RATE):]
    report(devs=devs, current=current, errors=errors, spk_rms=rms(spk),
           spk_freq=dominant(spk, RATE), mic_rms=rms(mic), mic_freq=dominant(mic, rate))


def no_sound_card_is_quiet_and_refused() -> None:
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


def bad_input_raises_and_never_crashes(text: str, empty: str, head: str) -> None:
    tmp = media_dir("pjffi-media-")
    lib, (tp,) = ua_lib()
    write_wav(tmp + "/ok.wav", tone(440, 0.5, 16000), 16000)
    pl = lib.create_playlist([tmp + "/ok.wav"])  # first: pjsua reuses freed ids
    okp = lib.create_player(tmp + "/ok.wav")
    destroyed = lib.create_player(tmp + "/ok.wav")
    dslot = lib.player_get_slot(destroyed)
    lib.player_destroy(destroyed)
    rec = lib.create_recorder(tmp + "/r.wav")
    lib.recorder_destroy(rec)
    cases = {
        "missing_file": lambda: lib.create_player(tmp + "/nope.wav"),
        "not_wav": lambda: lib.create_player(text),
        "empty_wav": lambda: lib.create_player(empty),
        "header_only": lambda: lib.create_player(head),
        "dir_as_file": lambda: lib.create_player(tmp),
        "playlist_missing": lambda: lib.create_playlist([tmp + "/ok.wav", tmp + "/x.wav"]),
        "playlist_not_wav": lambda: lib.create_playlist([text]),
        "playlist_empty": lambda: lib.create_playlist([]),
        "long_name": lambda: lib.create_player(tmp + "/" + "x" * 300 + ".wav"),
        "unknown_player": lambda: lib.player_get_slot(99),
        "destroyed_player": lambda: lib.player_set_pos(destroyed, 0),
        "destroy_twice": lambda: lib.player_destroy(destroyed),
        "negative_player": lambda: lib.player_destroy(-1),
        "unknown_recorder": lambda: lib.recorder_get_slot(7),
        "destroyed_recorder": lambda: lib.recorder_destroy(rec),
        "recorder_not_wav": lambda: lib.create_recorder(tmp + "/out.mp3"),
        "recorder_short": lambda: lib.create_recorder("a"),
        "recorder_bad_dir": lambda: lib.create_recorder(tmp + "/no/such/dir/r.wav"),
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
        "nul_name": lambda: lib.create_player("a\x00b.wav"),
    }
    got: Dict[str, Any] = {}
    for name, fn in {**cases, **types}.items():
        try:
            fn()
            got[name] = "no error"
        except pj.Error:
            got[name] = "Error"
        except (TypeError, ValueError) as e:
            got[name] = type(e).__name__
    lib.player_destroy(pl)
    alive = lib.conf_get_max_ports()
    lib.destroy()
    after: Dict[str, Any] = {}
    for name, fn in (("player", lambda: lib.create_player(tmp + "/ok.wav")),
                     ("connect", lambda: lib.conf_connect(0, 0)),
                     ("codecs", lambda: lib.enum_codecs())):
        try:
            fn()
            after[name] = "no error"
        except pj.Error:
            after[name] = "Error"
    report(got=got, alive=alive, after=after)


def demo_still_works() -> None:
    sys.exit(cli_main(["demo"]))


if __name__ == "__main__":
    main(globals())
