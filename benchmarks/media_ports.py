"""Benchmark: the cost of Python audio ports on the conference bridge.

    python3 benchmarks/media_ports.py [--ports 100] [--seconds 2] [--rounds 3]

Each configuration puts N ports on the bridge of one library (null sound device,
16 kHz, 20 ms frames) and measures the process's CPU time per second of wall time (the
least of a few windows). Sources are connected to slot 0, so the bridge mixes N
streams; sinks are fed by one WAV player. The C-only references are WAV players (for
sources) and WAV recorders (for sinks). "us/frame" is the CPU time above the idle
bridge divided by the frames the N ports moved; "vs C" compares that with the C
reference of the same kind.

Not a test: figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import shutil
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pjsua_ffi as pj  # noqa: E402

RATE = 16000
FRAME_S = 0.020
C_SRC = "C WAV players -> slot 0"
C_SINK = "C WAV recorders <- 1 player"


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def measure(seconds: float, rounds: int, warmup: float = 0.5) -> float:
    """CPU time of this process per second of wall time: the least of ``rounds``
    windows, since other processes on a shared machine only ever add to it."""
    time.sleep(warmup)
    best = float("inf")
    for _ in range(rounds):
        c0, t0 = cpu_seconds(), time.monotonic()
        time.sleep(seconds)
        best = min(best, (cpu_seconds() - c0) / (time.monotonic() - t0))
    return best


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)


def write_wav(path: str, x: np.ndarray) -> str:
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(x.astype("<i2").tobytes())
    return path


class Bench:
    def __init__(self, ports: int, seconds: float) -> None:
        self.n = ports
        self.seconds = seconds
        self.dir = tempfile.mkdtemp(prefix="pjffi-bench-")
        self.signal = tone(2.0)
        self.wav = write_wav(os.path.join(self.dir, "tone.wav"), self.signal)
        self.lib = pj.Lib()
        mc = pj.MediaConfig()
        mc.clock_rate = RATE
        mc.enable_ice = False
        mc.max_media_ports = 2 * ports + 16
        mc.snd_auto_close_time = -1  # keep the clock running between configurations
        self.lib.init(pj.UAConfig(), pj.LogConfig(level=1, console_level=1), mc)
        self.lib.set_null_snd_dev()
        self.lib.start()
        self.received = 0
        self._ports: List[Any] = []

    def close(self) -> None:
        self.lib.destroy()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- configurations: each sets up N ports and returns a teardown

    def idle(self) -> Callable[[], None]:
        # A looping player into a sink keeps the clock ticking with minimal work.
        p = self.lib.create_player(self.wav, loop=True)

        def teardown() -> None:
            self.lib.player_destroy(p)
        return teardown

    def c_players(self) -> Callable[[], None]:
        ids = [self.lib.create_player(self.wav, loop=True) for _ in range(self.n)]
        for pid in ids:
            self.lib.conf_connect(self.lib.player_get_slot(pid), 0)

        def teardown() -> None:
            for pid in ids:
                self.lib.player_destroy(pid)
        return teardown

    def np_arrays(self) -> Callable[[], None]:
        srcs = [self.lib.create_audio_source(self.signal, loop=True) for _ in range(self.n)]
        return self._connect_sources(srcs)

    def _connect_sources(self, srcs: List[Any]) -> Callable[[], None]:
        for s in srcs:
            self.lib.conf_connect(s.slot, 0)
        self._ports = srcs

        def teardown() -> None:
            for s in srcs:
                s.close()
        return teardown

    def np_generators(self, buffer_ms: int) -> Callable[[], Callable[[], None]]:
        def setup() -> Callable[[], None]:
            chunk = 1600
            parts = [self.signal[i:i + chunk] for i in range(0, len(self.signal), chunk)]
            srcs = [self.lib.create_audio_source(itertools.cycle(parts), buffer_ms=buffer_ms)
                    for _ in range(self.n)]
            return self._connect_sources(srcs)
        return setup

    def _fed(self) -> Tuple[int, int]:
        pid = self.lib.create_player(self.wav, loop=True)
        return pid, self.lib.player_get_slot(pid)

    def c_recorders(self) -> Callable[[], None]:
        pid, slot = self._fed()
        ids = [self.lib.create_recorder(os.path.join(self.dir, f"r{i}.wav"))
               for i in range(self.n)]
        for rid in ids:
            self.lib.conf_connect(slot, self.lib.recorder_get_slot(rid))

        def teardown() -> None:
            for rid in ids:
                self.lib.recorder_destroy(rid)
            self.lib.player_destroy(pid)
            for i in range(self.n):
                os.unlink(os.path.join(self.dir, f"r{i}.wav"))
        return teardown

    def np_sinks(self, callback_ms: int, copy: bool = False) -> Callable[[], Callable[[], None]]:
        def setup() -> Callable[[], None]:
            pid, slot = self._fed()

            def consume(a: Any) -> None:
                self.received += len(a)
            sinks = [self.lib.create_audio_sink(consume, copy=copy, callback_ms=callback_ms)
                     for _ in range(self.n)]
            for s in sinks:
                self.lib.conf_connect(slot, s.slot)
            self._ports = sinks

            def teardown() -> None:
                for s in sinks:
                    s.close()
                self.lib.player_destroy(pid)
            return teardown
        return setup


def run(args: argparse.Namespace) -> int:
    b = Bench(args.ports, args.seconds)
    rows: List[Tuple[str, Callable[[], Callable[[], None]], Optional[str]]] = [
        ("idle bridge (1 player, no listener)", b.idle, None),
        (C_SRC, b.c_players, None),
        ("numpy array sources (loop) -> slot 0", b.np_arrays, C_SRC),
        ("numpy generator sources, 200 ms ring", b.np_generators(200), C_SRC),
        ("numpy generator sources, 40 ms ring", b.np_generators(40), C_SRC),
        (C_SINK, b.c_recorders, None),
        ("numpy sinks, callback every 100 ms", b.np_sinks(100), C_SINK),
        ("numpy sinks, callback every 20 ms", b.np_sinks(20), C_SINK),
        ("numpy sinks, 100 ms, copy=True", b.np_sinks(100, copy=True), C_SINK),
    ]
    results: Dict[str, Tuple[float, float, Dict[str, int]]] = {}
    frames_per_s = 1.0 / FRAME_S
    idle = 0.0
    print(f"{args.ports} ports, best of {args.rounds} x {args.seconds:g} s per configuration, "
          f"{RATE} Hz, {FRAME_S * 1000:g} ms frames\n")
    print(f"{'configuration':<40} {'CPU %':>7} {'us/frame':>9} {'vs C':>6}  counters")
    for name, setup, ref in rows:
        b._ports = []
        teardown = setup()
        cpu = measure(args.seconds, args.rounds)
        counters: Dict[str, int] = {}
        for p in b._ports:
            st = p.stats()
            counters["underruns"] = counters.get("underruns", 0) + st.underruns
            counters["dropped"] = counters.get("dropped", 0) + st.dropped
        teardown()
        if name.startswith("idle"):
            idle = cpu
            per_frame = 0.0
        else:
            per_frame = (cpu - idle) / (args.ports * frames_per_s) * 1e6
        results[name] = (cpu, per_frame, counters)
        vs = f"{per_frame / results[ref][1]:5.2f}x" if ref and results[ref][1] > 0 else ""
        extra = " ".join(f"{k}={v}" for k, v in counters.items())
        print(f"{name:<40} {cpu * 100:7.1f} {per_frame:9.2f} {vs:>6}  {extra}", flush=True)
    b.close()
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ports", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=2.0, help="length of one window")
    ap.add_argument("--rounds", type=int, default=3, help="windows per configuration")
    return run(ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
