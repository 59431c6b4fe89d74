"""A speech-bot-shaped SIP program on asyncio: answer every call, stream the caller's
audio to a coroutine, play a reply, hang up.

The "speech service" here is a stand-in that runs in-process: it listens until it has
heard one second of sound, "transcribes" it as its dominant frequency, and the reply is
a tone an octave above. A real bot would send the frames to a speech-to-text service
over a websocket in :func:`transcribe` and synthesise the reply in :func:`reply_audio`;
the SIP side stays the same, and all of it runs on the event loop's thread.

    python3 examples/asyncio_bot.py --port 5070      # then call sip:bot@127.0.0.1:5070

``--once`` handles one call and exits. Prints ``LISTENING <uri>`` when ready and
``HEARD <hz>`` for every caller.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any, AsyncIterator

import numpy as np

import pjsua_ffi as pj
from pjsua_ffi import aio

RATE = 16000


async def transcribe(frames: AsyncIterator[Any], seconds: float = 1.0) -> float:
    """Listen until ``seconds`` of sound arrived; return its dominant frequency."""
    voiced = []
    have = 0
    async for chunk in frames:
        x = chunk.astype(np.float64)
        if np.sqrt(np.mean(x * x)) < 300:  # silence: wait for the caller to speak
            continue
        voiced.append(x)
        have += len(x)
        if have >= seconds * RATE:
            break
    if not have:
        return 0.0
    x = np.concatenate(voiced)
    spectrum = np.abs(np.fft.rfft((x - x.mean()) * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1.0 / RATE)[int(np.argmax(spectrum))])


def reply_audio(heard_hz: float, seconds: float = 1.5) -> Any:
    """The bot's answer: a tone an octave above what it heard (880 Hz if nothing)."""
    freq = 2 * heard_hz if heard_hz else 880.0
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


async def handle(call: aio.Call) -> None:
    """One conversation."""
    call.answer(200)
    await call.media_active()
    frames = call.audio_frames()
    try:
        heard = await asyncio.wait_for(transcribe(frames), 10)
    finally:
        await frames.aclose()  # stop listening: the sink leaves the bridge
    print(f"HEARD {round(heard / 10) * 10:.0f}", flush=True)
    await call.play(reply_audio(round(heard / 10) * 10))
    call.hangup()
    await call.disconnected()


async def serve(port: int, once: bool) -> None:
    lib = pj.Lib()
    media = pj.MediaConfig()
    media.clock_rate = media.snd_clock_rate = RATE
    media.enable_ice = False
    lib.init(pj.UAConfig(), pj.LogConfig(level=1, console_level=1), media)
    lib.set_null_snd_dev()
    tp = lib.create_transport(pj.TransportType.UDP,
                              pj.TransportConfig(port, "127.0.0.1", "127.0.0.1"))
    async with aio.start(lib) as loop_lib:
        info = tp.info()
        cfg = pj.AccountConfig()
        cfg.id = f"sip:bot@{info.host}:{info.port}"
        cfg.transport_id = tp._id
        cfg.rtp_transport_cfg = pj.TransportConfig(0, "127.0.0.1", "127.0.0.1")
        acc = loop_lib.account(lib.create_account(cfg))
        print(f"LISTENING {cfg.id}", flush=True)
        tasks = set()
        async for call in acc.incoming_calls():
            task = asyncio.create_task(handle(call))
            if once:
                await task
                break
            tasks.add(task)
            task.add_done_callback(tasks.discard)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=5070, help="SIP port on 127.0.0.1 (0: any)")
    p.add_argument("--once", action="store_true", help="handle one call, then exit")
    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(a.port, a.once))


if __name__ == "__main__":
    main()
