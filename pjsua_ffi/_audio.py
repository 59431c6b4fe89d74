"""Small WAV helpers for the demo and tests: write a tone, read samples, find the
dominant frequency and the signal level."""

from __future__ import annotations

import math
import struct
import wave
from typing import List, Sequence, Tuple


def write_tone(path: str, freq: float, seconds: float, rate: int = 16000,
               amplitude: float = 0.5) -> None:
    """Write a mono 16-bit sine WAV."""
    n = int(seconds * rate)
    peak = int(32767 * amplitude)
    frames = struct.pack(f"<{n}h", *(int(peak * math.sin(2 * math.pi * freq * i / rate))
                                     for i in range(n)))
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


def read_wav(path: str) -> Tuple[List[int], int]:
    """Samples (first channel) and sample rate of a 16-bit WAV."""
    with wave.open(path, "rb") as w:
        rate, ch, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        data = w.readframes(w.getnframes())
    if width != 2:
        raise ValueError("only 16-bit WAV files are supported")
    samples = struct.unpack(f"<{len(data) // 2}h", data)
    return list(samples[::ch]), rate


def rms(samples: Sequence[int]) -> float:
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))


def dominant_frequency(samples: Sequence[int], rate: int) -> float:
    """Frequency (Hz) of the strongest spectral peak."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover  (numpy is optional for the demo)
        return _dominant_frequency_slow(samples, rate)
    x = np.asarray(samples, dtype=np.float64)
    if x.size < 16:
        return 0.0
    x = (x - x.mean()) * np.hanning(x.size)
    spectrum = np.abs(np.fft.rfft(x))
    spectrum[0] = 0.0
    k = int(np.argmax(spectrum))
    # Parabolic interpolation around the peak bin for sub-bin accuracy.
    if 0 < k < spectrum.size - 1:
        a, b, c = spectrum[k - 1], spectrum[k], spectrum[k + 1]
        denom = a - 2 * b + c
        return float((k + (0.5 * (a - c) / denom if denom else 0.0)) * rate / x.size)
    return float(k * rate / x.size)


def _dominant_frequency_slow(samples: Sequence[int], rate: int) -> float:
    best_f, best_p = 0.0, -1.0
    window = samples[: rate // 2]
    for f in range(50, rate // 2, 5):
        w = 2 * math.pi * f / rate
        re = sum(s * math.cos(w * i) for i, s in enumerate(window))
        im = sum(s * math.sin(w * i) for i, s in enumerate(window))
        p = re * re + im * im
        if p > best_p:
            best_f, best_p = float(f), p
    return best_f
