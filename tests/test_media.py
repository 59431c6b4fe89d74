"""Media: codecs, calls carrying real audio, the conference bridge, WAV players,
playlists and recorders, sound devices through PortAudio/ALSA, media settings, and bad
input. Every scenario runs in its own process; audio is measured (energy, dominant
frequency), never assumed."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from tests.scenarios import media
from tests.support import run_scenario

pytest.importorskip("numpy")

def scenario(fn: Callable[..., None], *args: str, timeout: float = 60.0,
             env: dict | None = None, expect_rc: int = 0) -> dict:
    return run_scenario(fn, *args, timeout=timeout, env=env, expect_rc=expect_rc)


# ---------------------------------------------------------------------------- codecs


def test_codecs_enumerated_with_parameters_and_settable() -> None:
    r = scenario(media.codecs_enumerated_with_parameters_and_settable)
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

@pytest.mark.parametrize("codecs", [
    "PCMU/8000/1,PCMA/8000/1,G722/16000/1",
    "speex/8000/1,speex/16000/1,opus/48000/2",
])
def test_tone_survives_each_codec(codecs: str) -> None:
    r = scenario(media.tone_survives_each_codec, codecs)
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
    r = scenario(media.three_parties_hear_the_right_mix)
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
    r = scenario(media.players_playlists_recorders_and_levels)
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
    r = scenario(media.media_config_takes_effect, timeout=90)
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

def test_sound_device_through_portaudio_and_alsa() -> None:
    r = scenario(media.sound_device_through_portaudio_and_alsa)
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
    r = scenario(media.no_sound_card_is_quiet_and_refused)
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
    r = scenario(media.bad_input_raises_and_never_crashes, str(text), str(empty), str(head))
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
    r = run_scenario(media.demo_still_works, timeout=60)
    assert "OK: the tone crossed the call" in r["_stdout"], r["_stdout"]

