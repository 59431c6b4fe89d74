"""Audio ports written in Python: numpy sources and sinks on the conference bridge.

An :class:`AudioSource` or :class:`AudioSink` is a bridge slot like a call or a WAV
player: connect it with :meth:`Lib.conf_connect`. Samples are int16, mono, at the
bridge's clock rate (``MediaConfig.clock_rate``), in frames of
``clock_rate * audio_frame_ptime / 1000`` samples. numpy is needed.

Threads
-------
The bridge's clock thread never runs Python and never waits for it. Each port is a C
``pjmedia_port`` (``_csrc/media_port.c``) with a lock-free ring of samples between the
clock thread and Python:

* a source made from an array is copied into the port once and played from C, looping
  if asked; no Python runs per frame;
* a source fed by an iterator or a callable keeps ``buffer_ms`` of audio in its ring;
  when the ring is half empty the clock thread wakes the *media pump*, a Python thread
  of the library that asks the producer for more. A frame that finds the ring short is
  an *underrun*: counted, and played as silence;
* a sink's ring takes every frame the bridge sends it (silence when no one sends).
  Once ``callback_ms`` of audio is waiting, the pump hands it to the callback. When the
  ring is full - the callback is too slow - the frame is *dropped* and counted; the
  bridge and the call go on.

Sink callbacks and source producers run on the pump thread, one at a time and without
the library lock (they may still call the library). Since all Python ports of a library
share the pump, a slow callback also delays the others; their rings absorb that for up
to ``buffer_ms``. ``on_eof`` callbacks are queued and run like all other callbacks: on
the callback thread with the library lock held.

Zero copy and its limit
-----------------------
With ``copy=False`` (the default) a sink's callback gets a read-only view of a buffer
that the sink reuses: nothing is allocated per call, and the only copy is one memcpy
from the C ring. The contents are valid only until the callback returns (a view kept
longer shows later audio; it never points at freed memory). Pass ``copy=True`` to get
arrays you may keep.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from typing import Any, Callable, Dict, Optional, Tuple

from ._binding import C, ffi
from ._core import Core
from ._dispatch import Delivery
from .errors import Error

__all__ = ["AudioSource", "AudioSink", "AudioStats"]

log = logging.getLogger("pjsua_ffi")

_PUMP_POLL_MS = 250    # the pump also wakes this often to notice stop()
_READ_POLL_S = 0.005   # AudioSink.read() checks for data this often while waiting


_np: Any = None


def _numpy() -> Any:
    global _np
    if _np is None:
        try:
            import numpy
        except ImportError:  # pragma: no cover  (numpy is an optional dependency)
            raise ImportError("Python audio ports need numpy: pip install numpy") from None
        _np = numpy
    return _np


def _samples(data: Any) -> Any:
    """``data`` as a contiguous 1-D int16 array (no copy when it already is one)."""
    np = _np or _numpy()
    if type(data) is np.ndarray and data.dtype == np.int16 and data.ndim == 1 \
            and data.flags.c_contiguous:
        return data  # the common case, kept cheap: it runs for every chunk
    arr = np.asarray(data)
    if arr.ndim != 1:
        raise ValueError(f"samples must be one-dimensional (mono), not shape {arr.shape}")
    if arr.dtype != np.int16:
        if arr.size == 0:
            arr = arr.astype(np.int16)
        elif arr.dtype.kind in "iu":
            if arr.min() < -32768 or arr.max() > 32767:
                raise ValueError("samples must fit in int16")
            arr = arr.astype(np.int16)
        else:
            raise TypeError(f"samples must be int16 (or an integer type), not {arr.dtype}")
    return np.ascontiguousarray(arr)


class AudioStats:
    """Counters of a Python audio port.

    ``frames``: frames played (source) or received (sink); ``underruns``: frames a
    source had too few samples for; ``dropped``: frames a sink had no room for;
    ``eof_count``: how often a source reached its end; ``position``: samples played
    (for an array source, the position in the array); ``buffered`` and ``capacity``:
    samples in the ring and its size.
    """

    def __init__(self, s: Any = None) -> None:
        self.frames = int(s.frames) if s is not None else 0
        self.underruns = int(s.underruns) if s is not None else 0
        self.dropped = int(s.dropped) if s is not None else 0
        self.eof_count = int(s.eof_count) if s is not None else 0
        self.position = int(s.position) if s is not None else 0
        self.buffered = int(s.fill) if s is not None else 0
        self.capacity = int(s.capacity) if s is not None else 0

    def __repr__(self) -> str:
        return (f"<AudioStats frames={self.frames} underruns={self.underruns} "
                f"dropped={self.dropped} eof={self.eof_count} pos={self.position}>")


class _AudioPort:
    """What sources and sinks share: the C port, its slot, counters and close()."""

    _kind_name = "port"

    def __init__(self, lib: Core, kind: int, name: str, ring: int, wake: int,
                 data: Any, loop: bool) -> None:
        clock, spf, channels = bridge_format(lib)
        if channels != 1:
            raise Error("conf_add_port", lib, C.PJ_ENOTSUP,
                        "Python audio ports need a mono bridge (channel_count 1)")
        if not isinstance(name, str):
            raise TypeError("name must be a str")
        self._lib = lib
        self._lock = threading.RLock()
        self._closed = False
        self._port: Any = None
        self._final = AudioStats()
        self._st = ffi.new("pjffi_aport_stats *")
        self.clock_rate = clock
        self.samples_per_frame = spf
        ports = lib._reg.ports
        self._token = lib._reg.token()
        media_pump(lib)
        pp = ffi.new("pjffi_aport **")
        slot = ffi.new("int *")
        buf = ffi.from_buffer("int16_t[]", data) if data is not None and len(data) else ffi.NULL
        n = len(data) if data is not None else 0
        ports[self._token] = self  # before the bridge can ask for it
        with lib._gated("conf_add_port", lib):
            status = C.pjffi_aport_create(kind, name.encode("utf-8")[:31], clock, spf, ring,
                                          wake, buf, n, bool(loop), self._token, pp, slot)
        if status != 0:
            ports.pop(self._token, None)
            raise Error("conf_add_port", lib, status)
        self._port = pp[0]
        self.slot: int = slot[0]
        self._obj_name = f"{self._kind_name} slot {self.slot}"

    # -- state

    @property
    def closed(self) -> bool:
        return self._closed

    def stats(self) -> AudioStats:
        """The port's counters now (their last values once closed)."""
        with self._lock:
            if self._port is None:
                return self._final
            C.pjffi_aport_get_stats(self._port, self._st)
            return AudioStats(self._st)

    @property
    def frames(self) -> int:
        return self.stats().frames

    @property
    def underruns(self) -> int:
        return self.stats().underruns

    @property
    def dropped(self) -> int:
        return self.stats().dropped

    # -- closing

    def close(self) -> None:
        """Take the port off the bridge (also from its own callback). A callback that is
        already running on the pump thread finishes; no new one starts."""
        # The library lock first (every API call takes it before anything else), so
        # that a callback closing a port and a thread doing so cannot deadlock.
        with self._lib._lock, self._lock:
            if self._closed:
                return
            self._closed = True
            self._release(gated=True)

    def _close_now(self) -> None:
        """Library shutdown: close without the API gate (pjsua is still alive)."""
        with self._lock:
            self._closed = True
            if self._port is not None:
                C.pjffi_thread_register(b"python")
                self._release(gated=False)

    def _release(self, gated: bool) -> None:
        port, self._port = self._port, None
        if port is None:
            return
        C.pjffi_aport_get_stats(port, self._st)
        self._final = AudioStats(self._st)
        self._lib._reg.ports.pop(self._token, None)
        if not gated:
            C.pjffi_aport_close(port, self.slot)
            return
        try:
            gate = self._lib._gated("conf_remove_port", self)
        except Error:
            return  # the library is going away; its shutdown releases the port
        with gate:
            status = C.pjffi_aport_close(port, self.slot)
        if status != 0:
            log.debug("conf_remove_port(%d) of a Python port: status %d", self.slot, status)

    def __enter__(self) -> "_AudioPort":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"slot {self.slot}"
        return f"<{type(self).__name__} {state}>"

    # -- pump side

    def _service(self) -> None:
        """Called on the pump thread when the C port asked for Python."""


class AudioSource(_AudioPort):
    """A bridge slot that plays samples from Python (see the module docstring).

    ``source`` may be

    * an array of int16 samples (anything ``numpy.asarray`` takes): copied once and
      played from C; ``loop=True`` repeats it; :meth:`seek` moves in it;
    * an iterator (a generator, ...) yielding chunks of any length; it ends the source
      when exhausted;
    * a callable ``f(n)`` returning up to ``n`` samples, an empty chunk for "nothing
      yet", or ``None`` for the end;
    * ``None``: samples come from :meth:`write`, and :meth:`finish` ends them.

    ``on_eof(source)`` runs each time the end is reached (each loop of a looping array).
    ``buffer_ms`` is how much audio an iterator or callable source keeps ready.
    """

    _kind_name = "audio source"

    def __init__(self, lib: Core, source: Any = None, loop: bool = False,
                 on_eof: Optional[Callable[["AudioSource"], Any]] = None,
                 name: str = "py-source", buffer_ms: int = 200) -> None:
        if on_eof is not None and not callable(on_eof):
            raise TypeError("on_eof must be callable")
        if isinstance(buffer_ms, bool) or not isinstance(buffer_ms, int) or buffer_ms <= 0:
            raise ValueError("buffer_ms must be a positive int")
        self._on_eof = on_eof
        self._eof_seen = 0
        self._eof_box = ffi.new("unsigned long *")
        self._ended = False
        self._pending: Any = None
        self._producer: Optional[Callable[[int], Any]] = None
        np = _numpy()
        clock, spf, _ = bridge_format(lib)
        if source is None:
            self._mode = "write"
        elif hasattr(source, "__next__"):
            self._mode = "iterator"
            it = source
            self._producer = lambda n: next(it, None)
        elif callable(source) and not isinstance(source, np.ndarray):
            self._mode = "callable"
            self._producer = source
        else:
            self._mode = "array"
        if loop and self._mode != "array":
            raise ValueError("loop=True needs an array source")
        if self._mode == "array":
            data = _samples(source)
            super().__init__(lib, C.PJFFI_SOURCE_ARRAY, name, 0, 0, data, loop)
            return
        ring = max(2 * spf, buffer_ms * clock // 1000)
        ring = -(-ring // spf) * spf
        prime = self._prefill(ring) if self._producer is not None else None
        super().__init__(lib, C.PJFFI_SOURCE_RING, name, ring, ring // 2, prime, False)
        if self._ended and self._pending is None:
            C.pjffi_aport_finish(self._port)

    # -- producing

    def _produce(self, room: int) -> Any:
        """The next chunk from the producer: an int16 array, or None at the end."""
        producer = self._producer
        if producer is None or self._ended:
            return None
        try:
            chunk = producer(room)
        except StopIteration:
            chunk = None
        except Exception:  # noqa: BLE001  (a producer must not stop the pump)
            log.error("exception in an AudioSource producer (source ends):\n%s",
                      traceback.format_exc())
            chunk = None
        if chunk is None:
            self._ended = True
            return None
        try:
            return _samples(chunk)
        except (TypeError, ValueError) as exc:
            log.error("AudioSource producer gave bad samples (source ends): %s", exc)
            self._ended = True
            return None

    def _prefill(self, room: int) -> Any:
        """Samples to start with (taken before the port exists)."""
        np = _numpy()
        parts = []
        while room > 0:
            chunk = self._produce(room)
            if chunk is None or len(chunk) == 0:
                break
            if len(chunk) > room:
                self._pending = chunk[room:]
                chunk = chunk[:room]
            parts.append(chunk)
            room -= len(chunk)
        return np.concatenate(parts) if parts else np.zeros(0, np.int16)

    def _refill(self, room: int) -> None:
        """Pump thread: ask the producer (without our lock) and queue what it gives."""
        while room > 0:
            chunk = self._pending
            self._pending = None
            if chunk is None:
                chunk = self._produce(room)
            with self._lock:
                if self._port is None:
                    return
                if chunk is None:
                    C.pjffi_aport_finish(self._port)
                    return
                if len(chunk) == 0:
                    return
                n = int(C.pjffi_aport_write(self._port, ffi.from_buffer("int16_t[]", chunk),
                                            len(chunk)))
            room -= n
            if n < len(chunk):
                self._pending = chunk[n:]
                return

    def _service(self) -> None:
        with self._lock:
            if self._port is None:
                return
            room = int(C.pjffi_aport_room(self._port, self._eof_box))
            eof = int(self._eof_box[0])
        if room > 0 and self._producer is not None:
            self._refill(room)
        if eof > self._eof_seen:
            self._eof_seen = eof
            if self._on_eof is not None:
                self._lib._post(Delivery(_deliver_source_eof, self))

    # -- user side

    def write(self, samples: Any) -> int:
        """Queue samples (``source=None`` only); returns how many fitted in the ring.
        Never blocks."""
        if self._mode != "write":
            raise Error("audio_source_write", self, C.PJ_EINVALIDOP,
                        "write() is for sources created without a source")
        data = _samples(samples)
        with self._lock:
            if self._port is None:
                raise Error("audio_source_write", self, C.PJ_EINVALIDOP, "source is closed")
            if not len(data):
                return 0
            return int(C.pjffi_aport_write(self._port, ffi.from_buffer("int16_t[]", data),
                                           len(data)))

    def finish(self) -> None:
        """No more samples will be written: play what is queued, then end."""
        with self._lock:
            if self._port is not None:
                C.pjffi_aport_finish(self._port)

    def seek(self, pos: int) -> None:
        """Move an array source to sample ``pos`` (0 rewinds; also restarts an ended
        source)."""
        if self._mode != "array":
            raise Error("audio_source_seek", self, C.PJ_EINVALIDOP,
                        "seek() needs an array source")
        if isinstance(pos, bool) or not isinstance(pos, int) or pos < 0:
            raise ValueError("pos must be an int >= 0")
        with self._lock:
            if self._port is None:
                raise Error("audio_source_seek", self, C.PJ_EINVALIDOP, "source is closed")
            C.pjffi_aport_seek(self._port, pos)

    @property
    def position(self) -> int:
        """Samples played so far (an array source: the position in the array)."""
        return self.stats().position


class AudioSink(_AudioPort):
    """A bridge slot that hands what it receives to Python (see the module docstring).

    With a ``callback``, ``callback(samples)`` gets int16 arrays holding a whole number
    of frames, in order, every ``callback_ms`` or so. With ``copy=False`` the array is
    a read-only view valid only during the call; ``copy=True`` gives a new array.
    Without a callback, call :meth:`read`. ``buffer_ms`` is the ring's size: what the
    sink can hold while Python is busy before it drops frames.
    """

    _kind_name = "audio sink"

    def __init__(self, lib: Core, callback: Optional[Callable[[Any], Any]] = None,
                 copy: bool = False, name: str = "py-sink", buffer_ms: int = 500,
                 callback_ms: int = 100) -> None:
        if callback is not None and not callable(callback):
            raise TypeError("callback must be callable")
        for what, value in (("buffer_ms", buffer_ms), ("callback_ms", callback_ms)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{what} must be a positive int")
        np = _numpy()
        clock, spf, _ = bridge_format(lib)
        ring = -(-max(2 * spf, buffer_ms * clock // 1000) // spf) * spf
        wake = max(spf, min(ring, (callback_ms * clock // 1000) // spf * spf))
        if callback is None:
            wake = ring + 1  # nobody to wake: read() polls
        self._callback = callback
        self._copy = bool(copy)
        self._buf = np.empty(ring, dtype=np.int16)
        self._view = self._buf[:]
        self._view.flags.writeable = False
        self._cbuf = ffi.from_buffer("int16_t[]", self._buf)
        super().__init__(lib, C.PJFFI_SINK, name, ring, wake, None, False)

    def _take(self) -> int:
        """Move what the ring holds into our buffer; returns the sample count."""
        return int(C.pjffi_aport_read(self._port, self._cbuf, len(self._buf)))

    def _service(self) -> None:
        """Pump thread: move what arrived into our buffer and hand it over. The callback
        runs without our lock: the buffer belongs to Python, so closing the sink meanwhile
        is safe."""
        cb = self._callback
        if cb is None:
            return
        with self._lock:
            if self._port is None:
                return
            n = self._take()
        if n == 0:
            return
        try:
            cb(self._buf[:n].copy() if self._copy else self._view[:n])
        except Exception:  # noqa: BLE001  (a callback must not stop the pump)
            log.error("exception in an AudioSink callback:\n%s", traceback.format_exc())

    def read(self, max_samples: Optional[int] = None, timeout: float = 0.0) -> Any:
        """Received samples (a new int16 array of whole frames; empty if none came
        within ``timeout`` seconds). For sinks without a callback."""
        if self._callback is not None:
            raise Error("audio_sink_read", self, C.PJ_EINVALIDOP,
                        "read() is for sinks created without a callback")
        np = _numpy()
        limit = len(self._buf) if max_samples is None else int(max_samples)
        limit -= limit % self.samples_per_frame
        if limit <= 0:
            raise ValueError("max_samples must be at least one frame")
        end = time.monotonic() + max(0.0, float(timeout))
        while True:
            with self._lock:
                if self._port is None:
                    raise Error("audio_sink_read", self, C.PJ_EINVALIDOP, "sink is closed")
                n = int(C.pjffi_aport_read(self._port, self._cbuf, limit))
                if n:
                    return self._buf[:n].copy()
            if time.monotonic() >= end:
                return np.zeros(0, np.int16)
            time.sleep(_READ_POLL_S)


def _deliver_source_eof(source: AudioSource, snapshot: None) -> None:
    cb = source._on_eof
    if cb is not None:
        cb(source)


class _Pump:
    """The library's media pump thread: waits in C for ports and player end-of-file
    notices that need Python, and services them."""

    def __init__(self, lib: Core) -> None:
        self._lib = lib
        C.pjffi_pump_set_stop(0)
        self._thread = threading.Thread(target=self._run, name="pjsua-media-pump",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        lib = self._lib
        ports: Dict[int, Any] = lib._reg.ports
        max_ready, max_events = C.PJFFI_PUMP_MAX_READY, C.PJFFI_PUMP_MAX_EVENTS
        tokens = ffi.new("long[]", max_ready)
        events = ffi.new("long[]", max_events)
        n_events = ffi.new("int *")
        wait = C.pjffi_pump_wait
        while True:
            n = wait(_PUMP_POLL_MS, tokens, max_ready, events, max_events, n_events)
            if n < 0:
                return
            for i in range(n_events[0]):
                try:
                    _player_eof(lib, int(events[i]))
                except Exception:  # noqa: BLE001
                    log.error("error delivering a player EOF:\n%s", traceback.format_exc())
            for i in range(n):
                port = ports.get(tokens[i])
                if port is None:
                    continue
                try:
                    port._service()
                except Exception:  # noqa: BLE001
                    log.error("error in the media pump:\n%s", traceback.format_exc())

    def stop(self) -> None:
        C.pjffi_pump_set_stop(1)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5.0)


def bridge_format(lib: Core) -> Tuple[int, int, int]:
    """(clock rate, samples per frame, channels) of the conference bridge."""
    reg = lib._reg
    if reg.bridge is None:
        ci = ffi.new("pjsua_conf_port_info *")
        lib._call("conf_get_port_info", C.pjsua_conf_get_port_info, 0, ci)
        reg.bridge = (int(ci.clock_rate), int(ci.samples_per_frame), int(ci.channel_count))
    return reg.bridge


def media_pump(lib: Core) -> _Pump:
    """The library's media pump, started on first use."""
    reg = lib._reg
    with reg.media_lock:
        if reg.pump is None:
            reg.pump = _Pump(lib)
        return reg.pump


# ---------------------------------------------------------------------- WAV players

PlayerEofCallback = Callable[[int], Any]


class _Player:
    __slots__ = ("id", "slot", "token", "on_eof", "playlist", "watched")

    def __init__(self, pid: int, slot: int, token: int, playlist: bool) -> None:
        self.id = pid
        self.slot = slot
        self.token = token
        self.on_eof: Optional[PlayerEofCallback] = None
        self.playlist = playlist
        self.watched = False


def _player_eof(lib: Core, token: int) -> None:
    """A player reached its end (pump thread): queue its callback."""
    player = lib._reg.player_tokens.get(token)
    if player is not None and player.on_eof is not None:
        lib._post(Delivery(_deliver_player_eof, player))


def _deliver_player_eof(player: _Player, snapshot: None) -> None:
    cb = player.on_eof
    if cb is not None:
        cb(player.id)
