"""An auto-answering voice bot: the call's audio streams into Python as numpy arrays,
and the bot's answers stream back out - the shape of a speech bot, with a tone
detector standing in for speech recognition and a tone for speech synthesis.

    python numpy_bot.py --port 5070 --calls 1

For each caller, the bot listens; when a sound ends (a short silence after it), it
measures the sound's pitch and answers with a tone a fifth higher (x 1.5). When the call
ends it prints how the audio path did: frames in and out, frames dropped because Python
fell behind, and frames played as silence because there was nothing to say.

Threads: the bridge's clock never waits for Python. ``on_audio`` runs on the library's
media pump thread with whole frames; ``AudioSource.write`` queues the answer, which the
bridge then plays from C.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import List, Optional

import numpy as np
from common import add_network_args, local_account, say, start_lib

import pjsua_ffi as pj

SPEECH_RMS = 500.0       # a frame louder than this is "speech"
END_OF_SPEECH_S = 0.3    # this much silence ends an utterance
MIN_SPEECH_S = 0.2       # shorter sounds are ignored
REPLY_S = 0.6


class Ear:
    """Splits the incoming audio into utterances with an energy detector."""

    def __init__(self, rate: int, frame: int, on_utterance: "Bot") -> None:
        self.rate, self.frame = rate, frame
        self.bot = on_utterance
        self.speech: List[np.ndarray] = []
        self.silent_frames = 0
        self.calls = 0
        self.max_gap = 0.0
        self.last: Optional[float] = None

    def on_audio(self, samples: np.ndarray) -> None:
        """Sink callback: ``samples`` holds whole frames (a view valid during the call)."""
        now = time.monotonic()
        if self.last is not None:
            self.max_gap = max(self.max_gap, now - self.last)
        self.last = now
        self.calls += 1
        for frame in samples.reshape(-1, self.frame):
            level = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2)))
            if level >= SPEECH_RMS:
                self.speech.append(frame.copy())  # the view is reused: keep a copy
                self.silent_frames = 0
            elif self.speech:
                self.silent_frames += 1
                if self.silent_frames * self.frame >= END_OF_SPEECH_S * self.rate:
                    utterance = np.concatenate(self.speech)
                    self.speech, self.silent_frames = [], 0
                    if len(utterance) >= MIN_SPEECH_S * self.rate:
                        self.bot.answer(utterance)


class Bot(pj.CallCallback):
    """One call: wires the call to the bot's sink and source, answers each utterance."""

    def __init__(self, lib: pj.Lib, done: threading.Event) -> None:
        super().__init__()
        self.lib = lib
        self.done = done
        # Fed by write(); its ring holds a whole reply, so write() takes it at once.
        self.mouth = lib.create_audio_source(name="bot-mouth",
                                             buffer_ms=int(REPLY_S * 1000) + 200)
        self.ear = Ear(self.mouth.clock_rate, self.mouth.samples_per_frame, self)
        self.sink = lib.create_audio_sink(self.ear.on_audio, name="bot-ear", callback_ms=20)

    def answer(self, utterance: np.ndarray) -> None:
        rate = self.ear.rate
        spectrum = np.abs(np.fft.rfft(utterance * np.hanning(len(utterance))))
        pitch = float(np.argmax(spectrum[1:]) + 1) * rate / len(utterance)
        say(f"heard {pitch:.0f} Hz for {len(utterance) / rate:.1f} s; "
            f"replying with {pitch * 1.5:.0f} Hz")
        t = np.arange(int(REPLY_S * rate)) / rate
        reply = (8000 * np.sin(2 * np.pi * pitch * 1.5 * t)).astype(np.int16)
        queued = self.mouth.write(reply)   # never blocks: returns what fitted
        if queued < len(reply):
            say(f"still talking: {len(reply) - queued} samples of the reply cut")

    def on_state(self) -> None:
        info = self.call.info()
        say(f"call {info.state.name} ({info.last_code} {info.last_reason})")
        if info.state == pj.CallState.DISCONNECTED:
            heard, said = self.sink.stats(), self.mouth.stats()
            self.sink.close()
            self.mouth.close()
            say(f"audio in: {heard.frames} frames, {heard.dropped} dropped; "
                f"audio out: {said.frames} frames, {said.underruns} silent; "
                f"{self.ear.calls} callbacks, longest gap {self.ear.max_gap * 1000:.0f} ms")
            self.done.set()

    def on_media_state(self) -> None:
        info = self.call.info()
        if info.media_state == pj.MediaState.ACTIVE:
            self.lib.conf_connect(info.conf_slot, self.sink.slot)
            self.lib.conf_connect(self.mouth.slot, info.conf_slot)
            say("listening")


class Answering(pj.AccountCallback):
    """Answers every call with a new Bot."""

    def __init__(self, lib: pj.Lib) -> None:
        super().__init__()
        self.lib = lib
        self.finished: List[threading.Event] = []
        self.arrived = threading.Semaphore(0)

    def on_incoming_call(self, call: pj.Call) -> None:
        say(f"incoming call from {call.info().remote_uri}")
        done = threading.Event()
        self.finished.append(done)
        call.set_callback(Bot(self.lib, done))
        call.answer(200)
        self.arrived.release()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=0,
                        help="end after this many calls (0: run until interrupted)")
    add_network_args(parser)
    args = parser.parse_args()

    lib, transport = start_lib(args)
    try:
        answering = Answering(lib)
        account = local_account(lib, transport, args, user="bot", cb=answering)
        say(f"my address: {account.info().uri}; waiting for calls")
        taken = 0
        while not args.calls or taken < args.calls:
            answering.arrived.acquire()
            taken += 1
        for done in answering.finished:
            done.wait()
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        lib.destroy()


if __name__ == "__main__":
    sys.exit(main())
