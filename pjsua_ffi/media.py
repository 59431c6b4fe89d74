"""Media: sound devices, the conference bridge, WAV players, playlists and recorders,
codecs, and Python audio ports. :class:`Lib` inherits these methods.

Slots, players and recorders are plain integers, as in the legacy module. The library
remembers which player and recorder ids it handed out, so a stale or unknown id raises
:class:`Error` instead of reaching pjsua. Conference slots are checked by pjsua itself
(an empty or out-of-range slot is ``PJ_EINVAL``).

End-of-file notices of players and of :class:`~pjsua_ffi.audio_ports.AudioSource`
travel through the media pump (see :mod:`pjsua_ffi.audio_ports`) and are delivered like
every other callback: on the callback thread, with the library lock held.
"""

from __future__ import annotations

import math
import os
from typing import Any, Callable, List, Optional, Sequence, Tuple

from ._binding import C, ffi, from_str, new_str, to_bytes
from ._core import Core
from .audio_ports import AudioSink, AudioSource, PlayerEofCallback, _Player, media_pump
from .call import Call
from .errors import Error, legacy_ops
from .media_info import CodecInfo, CodecParameter, ConfPortInfo, SoundDeviceInfo, StreamStats

__all__ = ["SoundDeviceInfo", "CodecInfo", "CodecParameter", "ConfPortInfo", "StreamStats"]

_MAXPATH = 260            # PJ_MAXPATH: pjsua refuses longer file names
_RECORDER_CLOSE_MS = 4000  # how long recorder_destroy() waits for the file to be closed
# Device ids with a meaning of their own: default capture, default playback, no device,
# the null device.
_SPECIAL_DEVS = (-1, -2, -3, -99)


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    return value


@legacy_ops({"set_snd_dev": "set_current_sound_devices()"})
class _MediaMixin(Core):
    """Media methods of :class:`Lib`; what they hand out is kept in the registry."""

    # ------------------------------------------------------------- sound devices

    def enum_snd_dev(self) -> List[SoundDeviceInfo]:
        """The sound devices the audio layer (PortAudio) found."""
        count = ffi.new("unsigned *", 64)
        infos = ffi.new("pjmedia_aud_dev_info[]", 64)
        self._call("enum_snd_devs", C.pjsua_enum_aud_devs, infos, count)
        return [SoundDeviceInfo(infos[i]) for i in range(count[0])]

    def get_snd_dev(self) -> Tuple[int, int]:
        """(capture device, playback device): indexes into :meth:`enum_snd_dev`, or
        pjsua's special values (-1/-2 default devices, -99 the null device)."""
        cap, play = ffi.new("int *"), ffi.new("int *")
        self._call("get_snd_dev", C.pjsua_get_snd_dev, cap, play)
        return cap[0], play[0]

    def set_snd_dev(self, capture_dev: int, playback_dev: int) -> None:
        """Use these sound devices (indexes from :meth:`enum_snd_dev`; -1 and -2 are
        the default capture and playback devices)."""
        cap, play = _int(capture_dev, "capture_dev"), _int(playback_dev, "playback_dev")
        # pjsua only stores an index while the bridge is idle, and fails later (when a
        # call needs the device): check it now.
        count = None
        for dev in (cap, play):
            if dev in _SPECIAL_DEVS:
                continue
            if count is None:
                count = len(self.enum_snd_dev()) if dev >= 0 else 0
            if not 0 <= dev < count:
                raise Error("set_snd_dev", self, C.PJ_EINVAL, f"no sound device {dev}")
        self._call("set_snd_dev", C.pjsua_set_snd_dev, cap, play)

    def set_null_snd_dev(self) -> None:
        """Run the bridge on a software clock with no sound device."""
        self._call("set_null_snd_dev", C.pjsua_set_null_snd_dev)

    def set_ec(self, tail_ms: int, options: int = 0) -> None:
        """Configure the echo canceller of the sound device (0 ms disables it)."""
        if _int(tail_ms, "tail_ms") < 0 or _int(options, "options") < 0:
            raise ValueError("tail_ms and options must be >= 0")
        self._call("set_ec", C.pjsua_set_ec, tail_ms, options)

    def get_ec_tail(self) -> int:
        """The echo canceller's tail length in ms (0: disabled)."""
        tail = ffi.new("unsigned *")
        self._call("get_ec_tail", C.pjsua_get_ec_tail, tail)
        return int(tail[0])

    # ------------------------------------------------------------- conference bridge

    def conf_get_max_ports(self) -> int:
        """How many slots the bridge has."""
        with self._gated("conf_get_max_ports", self):
            return int(C.pjsua_conf_get_max_ports())

    def conf_get_port_info(self, slot: int) -> ConfPortInfo:
        """What occupies ``slot`` (not in the legacy module)."""
        ci = ffi.new("pjsua_conf_port_info *")
        self._call("conf_get_port_info", C.pjsua_conf_get_port_info, _int(slot, "slot"), ci)
        return ConfPortInfo(ci)

    def conf_connect(self, src_slot: int, dst_slot: int) -> None:
        """Send the audio of ``src_slot`` to ``dst_slot`` (slot 0 is the sound device)."""
        self._call("conf_connect", C.pjsua_conf_connect, _int(src_slot, "src_slot"),
                   _int(dst_slot, "dst_slot"))

    def conf_disconnect(self, src_slot: int, dst_slot: int) -> None:
        """Stop sending the audio of ``src_slot`` to ``dst_slot``."""
        self._call("conf_disconnect", C.pjsua_conf_disconnect, _int(src_slot, "src_slot"),
                   _int(dst_slot, "dst_slot"))

    def conf_set_tx_level(self, slot: int, level: float) -> None:
        """Scale what the bridge sends to ``slot`` (1.0 unchanged, 0 silent)."""
        _int(slot, "slot")
        self._call("conf_set_tx_level", C.pjsua_conf_adjust_tx_level, slot,
                   self._level("conf_set_tx_level", level))

    def conf_set_rx_level(self, slot: int, level: float) -> None:
        """Scale what the bridge takes from ``slot`` (1.0 unchanged, 0 silent)."""
        _int(slot, "slot")
        self._call("conf_set_rx_level", C.pjsua_conf_adjust_rx_level, slot,
                   self._level("conf_set_rx_level", level))

    def conf_get_signal_level(self, slot: int) -> Tuple[float, float]:
        """(tx, rx) signal level of ``slot`` during the last frame, each 0.0 .. 1.0:
        tx is what the bridge sent to the slot, rx what it took from it."""
        tx, rx = ffi.new("unsigned *"), ffi.new("unsigned *")
        self._call("conf_get_signal_level", C.pjsua_conf_get_signal_level,
                   _int(slot, "slot"), tx, rx)
        return tx[0] / 255.0, rx[0] / 255.0

    def _level(self, op: str, level: Any) -> float:
        if isinstance(level, bool) or not isinstance(level, (int, float)):
            raise TypeError("level must be a number")
        value = float(level)
        # pjsua maps the level to an adjustment itself ((level - 1) * 128, at least
        # -128); a negative or non-finite level is refused like pjsua refuses it.
        if not math.isfinite(value) or value < 0 or value > 256:
            raise Error(op, self, C.PJ_EINVAL, f"level must be between 0 and 256, not {level}")
        return value

    # ------------------------------------------------------------- players and playlists

    def create_player(self, filename: str, loop: bool = False,
                      on_eof: Optional[PlayerEofCallback] = None) -> int:
        """Play a WAV file into the bridge; returns the player id. ``on_eof(player_id)``
        (not in the legacy module) is called each time the end of the file is reached."""
        keep: list = []
        name = new_str(_wav_file(filename, "player_create", self), keep, "filename")
        p_id = ffi.new("int *")
        self._call("player_create", C.pjsua_player_create, name,
                   0 if loop else C.PJMEDIA_FILE_NO_LOOP, p_id)
        return self._add_player(p_id[0], False, on_eof)

    def create_playlist(self, filelist: Sequence[str], label: str = "playlist",
                        loop: bool = True,
                        on_eof: Optional[PlayerEofCallback] = None) -> int:
        """Play WAV files one after another (all with the same format); returns the
        player id. ``on_eof(player_id)`` is called after the last file."""
        if isinstance(filelist, (str, bytes)) or not isinstance(filelist, Sequence):
            raise TypeError("filelist must be a list of file names")
        if not filelist:
            raise Error("playlist_create", self, C.PJ_EINVAL, "the playlist is empty")
        keep: list = []
        names = ffi.new("pj_str_t[]", len(filelist))
        keep.append(names)
        for i, f in enumerate(filelist):
            data = to_bytes(_wav_file(f, "playlist_create", self))
            buf = ffi.new("char[]", data)
            keep.append(buf)
            names[i].ptr, names[i].slen = buf, len(data)
        lbl = new_str(label, keep, "label")
        p_id = ffi.new("int *")
        self._call("playlist_create", C.pjsua_playlist_create, names, len(filelist), lbl,
                   0 if loop else C.PJMEDIA_FILE_NO_LOOP, p_id)
        return self._add_player(p_id[0], True, on_eof)

    def _add_player(self, pid: int, playlist: bool, on_eof: Optional[PlayerEofCallback]) -> int:
        reg = self._reg
        with self._gated("player_get_conf_port", self):
            slot = int(C.pjsua_player_get_conf_port(pid))
        player = _Player(pid, slot, reg.token(), playlist)
        reg.players[pid] = player
        reg.player_tokens[player.token] = player
        if on_eof is not None:
            self.player_set_eof_callback(pid, on_eof)
        return pid

    def _player(self, op: str, player_id: Any, playlist: Optional[bool] = None) -> _Player:
        pid = _int(player_id, "player_id")
        player = self._reg.players.get(pid)
        if player is None:
            raise Error(op, self, C.PJ_EINVAL)  # pjsua's text, as legacy shows
        if playlist is not None and player.playlist != playlist:
            kind = "a playlist" if player.playlist else "a file player"
            raise Error(op, self, C.PJ_EINVALIDOP, f"player {pid} is {kind}")
        return player

    def player_get_slot(self, player_id: int) -> int:
        """The bridge slot of a player or playlist."""
        return self._player("player_get_conf_port", player_id).slot

    def player_set_pos(self, player_id: int, pos: int) -> None:
        """Move a file player to sample ``pos`` (0 rewinds)."""
        player = self._player("player_set_pos", player_id, playlist=False)
        if _int(pos, "pos") < 0 or pos > 0xFFFFFFFF:
            raise ValueError("pos must be between 0 and 2**32-1")
        self._call("player_set_pos", C.pjsua_player_set_pos, player.id, pos)

    def player_get_pos(self, player_id: int) -> int:
        """A file player's position in samples (not in the legacy module)."""
        player = self._player("player_get_pos", player_id, playlist=False)
        with self._gated("player_get_pos", self):
            pos = int(C.pjsua_player_get_pos(player.id))
        if pos < 0:
            raise Error("player_get_pos", self, -pos)
        return pos

    def player_get_len(self, player_id: int) -> int:
        """A file player's length in samples (not in the legacy module)."""
        player = self._player("player_get_info", player_id, playlist=False)
        info = ffi.new("pjmedia_wav_player_info *")
        self._call("player_get_info", C.pjsua_player_get_info, player.id, info)
        return int(info.size_samples)

    def player_set_eof_callback(self, player_id: int,
                                cb: Optional[PlayerEofCallback]) -> None:
        """Call ``cb(player_id)`` whenever the player (or playlist) reaches its end, or
        stop calling it with ``None`` (not in the legacy module)."""
        player = self._player("player_set_eof_cb", player_id)
        if cb is not None and not callable(cb):
            raise TypeError("cb must be callable or None")
        if cb is not None and not player.watched:
            media_pump(self)
            self._call("player_set_eof_cb", C.pjffi_player_watch_eof, player.id,
                       player.token)
            player.watched = True
        player.on_eof = cb

    def player_destroy(self, player_id: int) -> None:
        """Stop a player and free its slot."""
        player = self._player("player_destroy", player_id)
        self._call("player_destroy", C.pjsua_player_destroy, player.id)
        self._reg.players.pop(player.id, None)
        self._reg.player_tokens.pop(player.token, None)

    def playlist_get_slot(self, playlist_id: int) -> int:
        """The bridge slot of a playlist."""
        return self.player_get_slot(playlist_id)

    def playlist_destroy(self, playlist_id: int) -> None:
        """Stop a playlist and free its slot."""
        self.player_destroy(playlist_id)

    # ------------------------------------------------------------- recorders

    def create_recorder(self, filename: str) -> int:
        """Record what the bridge sends to this port into a WAV file (16-bit, the
        bridge's clock rate); returns the recorder id."""
        if not isinstance(filename, str):
            raise TypeError("filename must be a str")
        data = to_bytes(filename, "filename")
        if not data or b"\x00" in data:
            raise ValueError("filename must be a non-empty name without NUL")
        if not filename.lower().endswith(".wav"):
            raise Error("recorder_create", self, C.PJ_ENOTSUP,
                        "only WAV recordings are supported (name must end in .wav)")
        if len(data) >= _MAXPATH:
            raise Error("recorder_create", self, C.PJ_EINVAL, "file name too long")
        keep: list = []
        name = new_str(data, keep, "filename")
        p_id = ffi.new("int *")
        self._call("recorder_create", C.pjsua_recorder_create, name, 0, ffi.NULL, -1, 0, p_id)
        rid = p_id[0]
        with self._gated("recorder_get_conf_port", self):
            self._reg.recorders[rid] = int(C.pjsua_recorder_get_conf_port(rid))
        return rid

    def recorder_get_slot(self, rec_id: int) -> int:
        """The bridge slot of a recorder."""
        rid = _int(rec_id, "rec_id")
        slot = self._reg.recorders.get(rid)
        if slot is None:
            raise Error("recorder_get_conf_port", self, C.PJ_EINVAL)
        return slot

    def recorder_destroy(self, rec_id: int) -> None:
        """Stop recording. The WAV file is complete when this returns."""
        rid = _int(rec_id, "rec_id")
        if rid not in self._reg.recorders:
            raise Error("recorder_destroy", self, C.PJ_EINVAL)
        done = ffi.new("int *")
        # Waits (without the GIL) for the bridge to let go of the file; see media_port.c.
        self._call("recorder_destroy", C.pjffi_recorder_destroy_sync, rid,
                   _RECORDER_CLOSE_MS, done)
        self._reg.recorders.pop(rid, None)
        if not done[0]:
            raise Error("recorder_destroy", self, C.PJ_ETIMEDOUT,
                        "the bridge did not release the file in time")

    # ------------------------------------------------------------- codecs

    def _codec_list(self) -> Tuple[Any, int]:
        count = ffi.new("unsigned *", 64)
        infos = ffi.new("pjsua_codec_info[]", 64)
        self._call("enum_codecs", C.pjsua_enum_codecs, infos, count)
        return infos, count[0]

    def enum_codecs(self) -> List[CodecInfo]:
        """Every codec with its priority and default parameters, best first."""
        infos, n = self._codec_list()
        out = []
        param = ffi.new("pjffi_codec_param *")
        for i in range(n):
            self._call("codec_get_param", C.pjffi_codec_get_param,
                       ffi.addressof(infos[i], "codec_id"), param)
            out.append(CodecInfo(infos[i], param))
        return out

    def _codec_id(self, op: str, name: Any) -> str:
        """The one codec id that ``name`` (an id or a unique prefix of one) names."""
        if not isinstance(name, str):
            raise TypeError("codec name must be a str")
        infos, n = self._codec_list()
        ids = [from_str(infos[i].codec_id) for i in range(n)]
        want = name.lower()
        exact = [c for c in ids if c.lower() == want]
        if exact:
            return exact[0]
        found = [c for c in ids if want and c.lower().startswith(want)]
        if not found:
            raise Error(op, self, C.PJ_ENOTFOUND, f"no codec {name!r}")
        if len(found) > 1:
            raise Error(op, self, C.PJ_ETOOMANY,
                        f"codec name {name!r} is ambiguous: {', '.join(found)}")
        return found[0]

    def set_codec_priority(self, name: str, priority: int) -> None:
        """Set the priority (0..255; 0 disables) of every codec whose id starts with
        ``name``, e.g. ``"PCMU"`` or ``"speex/16000"``."""
        if not isinstance(name, str) or not name:
            raise TypeError("name must be a non-empty str")
        if not 0 <= _int(priority, "priority") <= 255:
            raise ValueError("priority must be 0..255")
        infos, n = self._codec_list()
        if not any(from_str(infos[i].codec_id).lower().startswith(name.lower())
                   for i in range(n)):
            raise Error("codec_set_priority", self, C.PJ_ENOTFOUND, f"no codec {name!r}")
        keep: list = []
        self._call("codec_set_priority", C.pjsua_codec_set_priority, new_str(name, keep),
                   priority)

    def get_codec_parameter(self, name: str) -> CodecParameter:
        """The default parameters of one codec."""
        keep: list = []
        param = ffi.new("pjffi_codec_param *")
        try:
            cid = new_str(self._codec_id("codec_get_param", name), keep)
            self._call("codec_get_param", C.pjffi_codec_get_param, cid, param)
        except Error:  # as the legacy module reports it
            raise Error("get_codec_parameter()", self, -1, "Invalid codec name") from None
        return CodecParameter(param)

    def set_codec_parameter(self, name: str, param: CodecParameter) -> None:
        """Change a codec's packet time, VAD and PLC for calls made from now on."""
        if not isinstance(param, CodecParameter):
            raise TypeError("param must be a CodecParameter")
        keep: list = []
        cid = new_str(self._codec_id("codec_set_param", name), keep)
        cur = ffi.new("pjffi_codec_param *")
        self._call("codec_get_param", C.pjffi_codec_get_param, cid, cur)
        ptime = _int(param.ptime, "ptime")
        frm = int(cur.frm_ptime) or 1
        if ptime < frm or ptime % frm or ptime // frm > 255:
            raise ValueError(f"ptime must be a multiple of {frm} ms, up to {255 * frm} ms")
        self._call("codec_set_param", C.pjffi_codec_set_param, cid, ptime // frm,
                   bool(param.vad_enabled), bool(param.plc_enabled))

    # ------------------------------------------------------------- calls

    def call_stream_stats(self, call: Call) -> StreamStats:
        """Statistics of a call's audio stream (not in the legacy module)."""
        if not isinstance(call, Call):
            raise TypeError("call must be a Call")
        out = ffi.new("pjffi_stream_stats *")
        call._c("call_get_stream_stat", C.pjffi_call_stream_stats, call._id, out)
        return StreamStats(out)

    # ------------------------------------------------------------- Python audio ports

    def create_audio_source(self, source: Any = None, loop: bool = False,
                            on_eof: Optional[Callable[[AudioSource], Any]] = None,
                            name: str = "py-source", buffer_ms: int = 200) -> AudioSource:
        """A bridge slot that plays int16 mono samples from Python: a numpy array (or
        anything ``numpy.asarray`` takes), an iterator of chunks, a callable
        ``f(n) -> chunk`` or, with ``source=None``, whatever :meth:`AudioSource.write`
        is given. See :mod:`pjsua_ffi.audio_ports`."""
        return AudioSource(self, source, loop=loop, on_eof=on_eof, name=name,
                           buffer_ms=buffer_ms)

    def create_audio_sink(self, callback: Optional[Callable[[Any], Any]] = None,
                          copy: bool = False, name: str = "py-sink", buffer_ms: int = 500,
                          callback_ms: int = 100) -> AudioSink:
        """A bridge slot whose received audio goes to ``callback(samples)`` (int16
        numpy arrays) or, without a callback, to :meth:`AudioSink.read`. See
        :mod:`pjsua_ffi.audio_ports`."""
        return AudioSink(self, callback, copy=copy, name=name, buffer_ms=buffer_ms,
                         callback_ms=callback_ms)

    def _media_shutdown(self) -> None:
        """Before pjsua_destroy: stop the pump and close every Python port."""
        reg = self._reg
        pump, reg.pump = reg.pump, None
        if pump is not None:
            pump.stop()
        for port in list(reg.ports.values()):
            port._close_now()
        reg.close_media()


def _wav_file(filename: Any, op: str, obj: Any) -> str:
    """Check a file name before pjsua sees it: str, existing, not too long."""
    if not isinstance(filename, str):
        raise TypeError(f"a file name must be a str, not {type(filename).__name__}")
    data = filename.encode("utf-8")
    if not data or b"\x00" in data:
        raise ValueError("a file name must be non-empty and without NUL")
    if len(data) >= _MAXPATH:
        raise Error(op, obj, C.PJ_EINVAL, f"file name too long: {filename}")
    if not os.path.isfile(filename):
        raise Error(op, obj, C.PJ_ENOTFOUND)  # pjsua's text, as legacy shows
    return filename
