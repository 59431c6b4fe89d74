"""Audio helpers for the media tests (used inside scenario processes): make tones,
read and write WAV files, and measure what a recording holds."""

from __future__ import annotations

import time
import wave
from typing import Any, List, Optional, Tuple

import numpy as np


def tone(freq: float, seconds: float, rate: int, amp: float = 0.3) -> np.ndarray:
    """A sine as int16 samples."""
    t = np.arange(int(seconds * rate)) / rate
    return (amp * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def write_wav(path: str, samples: np.ndarray, rate: int) -> str:
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())
    return path


def read_wav(path: str) -> Tuple[np.ndarray, int]:
    """Samples and rate of a 16-bit mono WAV (raises if the file is not valid)."""
    with wave.open(path, "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        rate = w.getframerate()
        data = w.readframes(w.getnframes())
    return np.frombuffer(data, dtype="<i2").astype(np.int16), rate


def rms(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float(np.sqrt(np.mean(x * x))) if x.size else 0.0


def dominant(x: np.ndarray, rate: int) -> float:
    from pjsua_ffi._audio import dominant_frequency

    return dominant_frequency(x, rate) if len(x) >= 64 else 0.0  # type: ignore[arg-type]


def band(x: np.ndarray, rate: int, freq: float, width: float = 25.0) -> float:
    """Share of the signal's energy within ``freq`` ± ``width`` Hz."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 64:
        return 0.0
    spec = np.abs(np.fft.rfft((x - x.mean()) * np.hanning(x.size))) ** 2
    f = np.fft.rfftfreq(x.size, 1.0 / rate)
    total = spec.sum()
    return float(spec[(f > freq - width) & (f < freq + width)].sum() / total) if total else 0.0


def tone_sequence(x: np.ndarray, rate: int, window_s: float = 0.05,
                  min_rms: float = 300.0, snap: Optional[List[float]] = None,
                  min_windows: int = 2) -> List[float]:
    """The tones a recording plays, in order: dominant frequency per window, snapped to
    the nearest of ``snap``, with silent windows skipped and repeats merged. A tone
    must last ``min_windows`` windows (transitions are ignored)."""
    n = int(window_s * rate)
    seq: List[Tuple[float, int]] = []
    for i in range(0, len(x) - n + 1, n):
        w = x[i:i + n]
        if rms(w) < min_rms:
            continue
        f = dominant(w, rate)
        if snap:
            f = min(snap, key=lambda s: abs(s - f))
        if seq and seq[-1][0] == f:
            seq[-1] = (f, seq[-1][1] + 1)
        else:
            seq.append((f, 1))
    out: List[float] = []
    for f, count in seq:
        if count >= min_windows and (not out or out[-1] != f):
            out.append(f)
    return out


def wait_media(events: Any, timeout: float = 5.0) -> int:
    """Wait for ('media', 'ACTIVE', slot) in an Events log; return the slot."""
    assert events.wait(lambda items: any(e[:2] == ("media", "ACTIVE") for e in items),
                       timeout), f"media never became active: {events.items}"
    return [e for e in events.items if e[:2] == ("media", "ACTIVE")][-1][2]


def wait_state(events: Any, name: str, timeout: float = 5.0) -> None:
    assert events.wait(lambda items: any(e[:2] == ("state", name) for e in items), timeout), \
        f"call never reached {name}: {events.items}"


def only_codec(lib: Any, codec_id: str) -> None:
    """Disable every codec but ``codec_id``."""
    for c in lib.enum_codecs():
        lib.set_codec_priority(c.name, 255 if c.name == codec_id else 0)


def settle(seconds: float) -> None:
    time.sleep(seconds)
