"""Scenarios of tests/test_ports.py (each runs in its own process)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Dict, List

import numpy as np

import pjsua_ffi as pj
from tests.media_support import (
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
    report,
    ua_account,
    ua_lib,
    uri_of,
)


def sources_and_sinks_on_the_bridge_are_sample_exact() -> None:
    lib, _ = ua_lib(clock_rate=16000)
    spf = lib.conf_get_port_info(0).samples_per_frame
    n_total = 16000
    ramp = (np.arange(n_total) % 20000 + 1).astype(np.int16)   # never 0: silence is visible
    out: Dict[str, Any] = {}

    def first_run(x, want):
        nz = np.flatnonzero(x)
        return bool(len(nz)) and np.array_equal(x[nz[0]:nz[0] + len(want)], want)

    # An array source into two sinks: a zero-copy view and kept copies.
    views: List[Any] = []
    copies: List[Any] = []
    sizes: List[int] = []
    def on_view(a):
        sizes.append(len(a))
        views.append((a.flags.writeable, a.copy()))
    eofs = Events()
    src = lib.create_audio_source(ramp, on_eof=lambda s: eofs.add(("array", s.slot)))
    s1 = lib.create_audio_sink(on_view)
    s2 = lib.create_audio_sink(copies.append, copy=True)
    s3 = lib.create_audio_sink(buffer_ms=2000)          # no callback: read()
    for s in (s1, s2, s3):
        lib.conf_connect(src.slot, s.slot)
    out["eof"] = eofs.wait(lambda e: e, 3)
    time.sleep(0.2)
    pulled = s3.read(timeout=1)
    out["view_exact"] = first_run(np.concatenate([v for _, v in views]), ramp)
    out["view_readonly"] = not any(w for w, _ in views)
    out["copy_exact"] = first_run(np.concatenate(copies), ramp)
    out["copy_writeable"] = all(c.flags.writeable for c in copies)
    out["pull_exact"] = first_run(pulled, ramp)
    out["whole_frames"] = all(n % spf == 0 for n in sizes)
    out["src_stats"] = vars(src.stats())
    out["sink_stats"] = vars(s1.stats())
    out["pos_end"] = src.position
    src.seek(0)
    time.sleep(0.1)
    out["pos_rewound"] = src.position
    for p in (src, s1, s2, s3):
        p.close()

    # A looping array source reaches its end again and again.
    loops = Events()
    short = ramp[:1600]  # 0.1 s
    src = lib.create_audio_source(short, loop=True, on_eof=lambda s: loops.add(1))
    sink = lib.create_audio_sink(buffer_ms=2000)
    lib.conf_connect(src.slot, sink.slot)
    time.sleep(0.6)
    x = sink.read()
    nz = np.flatnonzero(x)[0]
    out["loop_exact"] = np.array_equal(x[nz:nz + 4800], np.tile(short, 3))
    out["loop_eofs"] = len(loops.items)
    src.close()
    sink.close()

    # An iterator of odd-sized chunks and a callable source: order kept exactly.
    def chunks():
        for i in range(0, n_total, 777):
            yield ramp[i:i + 777]
    asked: List[int] = []
    def produce(n):
        pos = sum(asked)
        take = min(n, n_total - pos)
        asked.append(take)
        return ramp[pos:pos + take] if take else None
    for name, source in (("iter", chunks()), ("call", produce)):
        ends = Events()
        src = lib.create_audio_source(source, on_eof=lambda s: ends.add(1))  # noqa: B023
        sink = lib.create_audio_sink(buffer_ms=2000)
        lib.conf_connect(src.slot, sink.slot)
        got = []
        t_end = time.monotonic() + 2.5
        while time.monotonic() < t_end and not ends.items:
            got.append(sink.read(timeout=0.1))
        time.sleep(0.1)
        got.append(sink.read())
        x = np.concatenate(got)
        out[name] = dict(exact=first_run(x, ramp), eof=len(ends.items),
                         stats=vars(src.stats()))
        src.close()
        sink.close()
    out["asked_max"] = max(asked)

    # Written samples play in order; an empty ring counts underruns.
    src = lib.create_audio_source(None)
    sink = lib.create_audio_sink(buffer_ms=2000)
    lib.conf_connect(src.slot, sink.slot)
    time.sleep(0.2)
    out["push_underruns"] = src.underruns
    written = src.write(ramp[:1000]) + src.write(ramp[1000:2400])
    ended = Events()
    src._on_eof = lambda s: ended.add(1)
    src.finish()
    out["push_eof"] = ended.wait(lambda e: e, 2)
    x = sink.read()
    out["push_exact"] = first_run(x, ramp[:2400]) and written == 2400
    out["push_underruns_after"] = src.underruns - out["push_underruns"]
    src.close()
    sink.close()

    # A sink nobody reads drops what does not fit, and says so.
    sink = lib.create_audio_sink(buffer_ms=100)
    src = lib.create_audio_source(ramp, loop=True)
    lib.conf_connect(src.slot, sink.slot)
    time.sleep(0.5)
    out["unread"] = vars(sink.stats())
    src.close()
    sink.close()
    out["closed_stats"] = vars(sink.stats())
    lib.destroy()
    report(spf=spf, **out)


def numpy_source_to_numpy_sink_in_another_process(port: str) -> None:
    lib, (tp,) = ua_lib(clock_rate=16000)
    only_codec(lib, "PCMU/8000/1")
    freqs = [400.0, 800.0, 1200.0, 1600.0]

    def segments():  # 0.5 s per tone, in chunks that do not match frames
        for f in freqs:
            x = tone(f, 0.5, 16000)
            for i in range(0, len(x), 250):
                yield x[i:i + 250]
    ended = Events()
    src = lib.create_audio_source(segments(), on_eof=lambda s: ended.add(1))
    ev = Events()
    alice = ua_account(lib, tp, "alice")
    call = alice.make_call(f"sip:bob@127.0.0.1:{port}",
                           CallLog(ev, connect_from=src.slot))
    wait_media(ev)
    ok = ended.wait(lambda e: e, 6)
    time.sleep(0.3)
    stats = vars(src.stats())
    call.hangup()
    wait_state(ev, "DISCONNECTED")
    lib.destroy()
    report(ended=ok, stats=stats)


def peer(port: str) -> None:
    # The callee: answers one call and hands what it hears to a numpy sink.
    lib, (tp,) = ua_lib(port=int(port), clock_rate=16000)
    only_codec(lib, "PCMU/8000/1")
    chunks, stamps = [], []
    def heard(a):
        chunks.append(a)
        stamps.append(time.monotonic())
    sink = lib.create_audio_sink(heard, copy=True, callback_ms=60)
    ev = Events()
    ua_account(lib, tp, "bob", cb=AnsweringAccount(ev, connect_to=sink.slot))
    print("READY", flush=True)
    wait_state(ev, "CONFIRMED", 10)
    wait_state(ev, "DISCONNECTED", 20)
    stats = vars(sink.stats())
    lib.destroy()
    x = np.concatenate(chunks)
    report(seq=tone_sequence(x, 16000, snap=[400.0, 800.0, 1200.0, 1600.0]),
           stats=stats, samples=len(x), calls=len(chunks),
           in_order=all(b >= a for a, b in zip(stamps, stamps[1:])))


def slow_sink_drops_frames_but_the_call_goes_on() -> None:
    tmp = media_dir("pjffi-ports-")
    lib, (tp,) = ua_lib(clock_rate=16000)
    only_codec(lib, "PCMU/8000/1")
    write_wav(tmp + "/t.wav", tone(600, 2.0, 16000), 16000)
    p = lib.create_player(tmp + "/t.wav", loop=True)
    got = []
    def slow(a):
        got.append((time.monotonic(), rms(a), dominant(a, 16000)))
        if len(got) == 3:
            time.sleep(1.2)    # a consumer that falls far behind
    sink = lib.create_audio_sink(slow, copy=True, buffer_ms=300)
    rec = lib.create_recorder(tmp + "/rec.wav")
    ev_b = Events()
    ua_account(lib, tp, "bob", set_default=False, cb=AnsweringAccount(ev_b))
    ev_a = Events()
    call = ua_account(lib, tp, "alice").make_call(
        uri_of(tp, "bob"), CallLog(ev_a, connect_from=lib.player_get_slot(p)))
    slot = wait_media(ev_b)
    lib.conf_connect(slot, sink.slot)
    lib.conf_connect(slot, lib.recorder_get_slot(rec))
    t0 = time.monotonic()
    time.sleep(2.6)
    state = call.info().state.name
    stats = vars(sink.stats())
    call.hangup()
    wait_state(ev_a, "DISCONNECTED")
    lib.recorder_destroy(rec)
    x, rate = read_wav(tmp + "/rec.wav")
    win = int(0.1 * rate)
    levels = [rms(x[i:i + win]) for i in range(int(0.4 * rate), len(x) - win, win)]
    after = [g for g in got if g[0] > t0 + 1.6]
    lib.destroy()
    report(state=state, stats=stats, min_level=min(levels), rec_s=len(x) / rate,
           after=[(round(lv), round(f)) for _, lv, f in after])


def audio_port_misuse_raises_and_never_crashes() -> None:
    logging.basicConfig(level=logging.CRITICAL)
    lib, _ = ua_lib(clock_rate=16000)
    ramp = np.arange(3200, dtype=np.int16)
    got = {}
    def attempt(name, fn):
        try:
            fn()
            got[name] = "no error"
        except pj.Error:
            got[name] = "Error"
        except (TypeError, ValueError) as e:
            got[name] = type(e).__name__
    attempt("stereo_array", lambda: lib.create_audio_source(np.zeros((10, 2), np.int16)))
    attempt("float_array", lambda: lib.create_audio_source(np.zeros(10)))
    attempt("too_big", lambda: lib.create_audio_source(np.array([70000])))
    attempt("loop_iter", lambda: lib.create_audio_source(iter([ramp]), loop=True))
    attempt("bad_buffer", lambda: lib.create_audio_sink(buffer_ms=0))
    attempt("bad_callback", lambda: lib.create_audio_sink(callback=5))
    src = lib.create_audio_source(ramp)
    gen = lib.create_audio_source(iter([ramp]))
    sink = lib.create_audio_sink(lambda a: None)
    attempt("write_array_source", lambda: src.write(ramp))
    attempt("seek_generator", lambda: gen.seek(0))
    attempt("seek_negative", lambda: src.seek(-1))
    attempt("read_callback_sink", lambda: sink.read())
    slot = src.slot
    src.close()
    src.close()  # twice is fine
    attempt("seek_closed", lambda: src.seek(0))
    attempt("connect_closed", lambda: lib.conf_connect(slot, sink.slot))

    # Exceptions in user code are logged; the pump and the bridge go on.
    def bad_producer(n):
        raise RuntimeError("producer failed")
    boom = lib.create_audio_source(ramp, loop=True)
    calls = []
    def bad_sink(a):
        calls.append(len(a))
        raise RuntimeError("sink failed")
    s_bad = lib.create_audio_sink(bad_sink)
    lib.conf_connect(boom.slot, s_bad.slot)
    try:
        lib.create_audio_source(bad_producer)
        got["producer_raises_at_start"] = "no error"
    except RuntimeError:
        got["producer_raises_at_start"] = "RuntimeError"
    # A sink that closes itself from its own callback.
    closing = []
    def close_me(a):
        closing.append(len(a))
        self_closing.close()
    self_closing = lib.create_audio_sink(close_me)
    lib.conf_connect(boom.slot, self_closing.slot)
    time.sleep(0.6)
    got["bad_sink_calls"] = len(calls)
    got["self_closed"] = (self_closing.closed, len(closing))

    # Ports still open when the library goes away are closed with it.
    late = lib.create_audio_sink(buffer_ms=200)
    lib.conf_connect(boom.slot, late.slot)
    time.sleep(0.1)
    pumps = [t.name for t in threading.enumerate() if t.name == "pjsua-media-pump"]
    lib.destroy()
    attempt("read_after_destroy", lambda: late.read())
    attempt("create_after_destroy", lambda: lib.create_audio_sink())
    got["closed_after_destroy"] = late.closed and boom.closed
    got["pumps"] = (len(pumps),
                    len([t for t in threading.enumerate() if t.name == "pjsua-media-pump"]))

    # A stereo bridge has no room for mono Python ports.
    lib, _ = ua_lib(channel_count=2)
    attempt("stereo_bridge", lambda: lib.create_audio_sink())
    lib.destroy()
    report(got=got)


if __name__ == "__main__":
    main(globals())
