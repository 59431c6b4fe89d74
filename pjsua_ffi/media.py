"""Media: sound devices, the conference bridge, WAV players, playlists and recorders,
and codecs. :class:`Lib` inherits these methods."""

from __future__ import annotations

import os
from typing import Any, List, Sequence

from ._binding import C, ffi, from_str, new_str, to_bytes
from .errors import Error

__all__ = ["SoundDeviceInfo", "CodecInfo", "CodecParameter"]


class SoundDeviceInfo:
    """A sound device as the audio layer reports it."""

    def __init__(self, sdi: Any = None) -> None:
        self.name = ""
        self.input_channels = 0
        self.output_channels = 0
        self.default_clock_rate = 0
        if sdi is not None:
            self.name = ffi.string(sdi.name).decode("utf-8", "replace")
            self.input_channels = int(sdi.input_count)
            self.output_channels = int(sdi.output_count)
            self.default_clock_rate = int(sdi.default_samples_per_sec)

    def __repr__(self) -> str:
        return (f"<SoundDeviceInfo {self.name!r} in={self.input_channels} "
                f"out={self.output_channels}>")


class CodecInfo:
    """A codec and its priority (0 disables it)."""

    def __init__(self, codec_info: Any = None, codec_param: Any = None) -> None:
        self.name = ""
        self.priority = 0
        self.clock_rate = 0
        self.channel_count = 0
        self.avg_bps = 0
        self.frm_ptime = 0
        self.ptime = 0
        self.pt = 0
        self.vad_enabled = False
        self.plc_enabled = False
        if codec_info is not None:
            self.name = from_str(codec_info.codec_id)
            self.priority = int(codec_info.priority)
            parts = self.name.split("/")
            if len(parts) >= 2 and parts[1].isdigit():
                self.clock_rate = int(parts[1])
            self.channel_count = int(parts[2]) if len(parts) >= 3 and parts[2].isdigit() else 1

    def __repr__(self) -> str:
        return f"<CodecInfo {self.name} priority={self.priority}>"


class CodecParameter:
    """Settings of one codec (packet time, VAD, PLC)."""

    def __init__(self, codec_param: Any = None) -> None:
        self.ptime = 0
        self.vad_enabled = False
        self.plc_enabled = False
        self._codec_param = codec_param


def _slot(value: Any, what: str = "slot") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int")
    return value


class _MediaMixin:
    """Media methods of :class:`Lib` (needs its ``_call``/``_enter``/``_leave``)."""

    _call: Any
    _enter: Any
    _leave: Any

    # -- sound devices

    def enum_snd_dev(self) -> List[SoundDeviceInfo]:
        """The sound devices the audio layer found."""
        count = ffi.new("unsigned *", 64)
        infos = ffi.new("pjmedia_aud_dev_info[]", 64)
        self._call("enum_snd_devs", C.pjsua_enum_aud_devs, infos, count)
        return [SoundDeviceInfo(infos[i]) for i in range(count[0])]

    def get_snd_dev(self) -> tuple:
        """(capture device index, playback device index)."""
        cap, play = ffi.new("int *"), ffi.new("int *")
        self._call("get_snd_dev", C.pjsua_get_snd_dev, cap, play)
        return cap[0], play[0]

    def set_snd_dev(self, capture_dev: int, playback_dev: int) -> None:
        """Use these sound devices (indexes from :meth:`enum_snd_dev`; -1 default)."""
        self._call("set_snd_dev", C.pjsua_set_snd_dev, _slot(capture_dev, "capture_dev"),
                   _slot(playback_dev, "playback_dev"))

    def set_null_snd_dev(self) -> None:
        """Run the bridge on a software clock with no sound device."""
        self._call("set_null_snd_dev", C.pjsua_set_null_snd_dev)

    # -- conference bridge

    def conf_get_max_ports(self) -> int:
        self._enter("conf_get_max_ports", self)
        try:
            return int(C.pjsua_conf_get_max_ports())
        finally:
            self._leave()

    def conf_connect(self, src_slot: int, dst_slot: int) -> None:
        """Send the audio of ``src_slot`` to ``dst_slot``."""
        self._call("conf_connect", C.pjsua_conf_connect, _slot(src_slot, "src_slot"),
                   _slot(dst_slot, "dst_slot"))

    def conf_disconnect(self, src_slot: int, dst_slot: int) -> None:
        self._call("conf_disconnect", C.pjsua_conf_disconnect, _slot(src_slot, "src_slot"),
                   _slot(dst_slot, "dst_slot"))

    def conf_set_tx_level(self, slot: int, level: float) -> None:
        """Scale what ``slot`` sends to its listeners (1.0 unchanged, 0 mute)."""
        self._call("conf_set_tx_level", C.pjsua_conf_adjust_tx_level, _slot(slot),
                   _level(level))

    def conf_set_rx_level(self, slot: int, level: float) -> None:
        """Scale what ``slot`` receives (1.0 unchanged, 0 mute)."""
        self._call("conf_set_rx_level", C.pjsua_conf_adjust_rx_level, _slot(slot),
                   _level(level))

    def conf_get_signal_level(self, slot: int) -> tuple:
        """(tx level, rx level) of ``slot``, each 0.0 .. 1.0."""
        tx, rx = ffi.new("unsigned *"), ffi.new("unsigned *")
        self._call("conf_get_signal_level", C.pjsua_conf_get_signal_level, _slot(slot), tx, rx)
        return tx[0] / 255.0, rx[0] / 255.0

    # -- WAV players, playlists, recorders

    def create_player(self, filename: str, loop: bool = False) -> int:
        """Play a WAV file into the bridge; returns the player id."""
        keep: list = []
        name = new_str(_existing_file(filename, "player_create", self), keep, "filename")
        p_id = ffi.new("int *")
        self._call("player_create", C.pjsua_player_create, name,
                   0 if loop else C.PJMEDIA_FILE_NO_LOOP, p_id)
        return p_id[0]

    def player_get_slot(self, player_id: int) -> int:
        return self._port_of("player_get_conf_port", C.pjsua_player_get_conf_port, player_id)

    def player_set_pos(self, player_id: int, pos: int) -> None:
        """Move a player to sample ``pos``."""
        if int(pos) < 0:
            raise ValueError("pos must be >= 0")
        self._call("player_set_pos", C.pjsua_player_set_pos, _slot(player_id, "player_id"),
                   int(pos))

    def player_destroy(self, player_id: int) -> None:
        self._call("player_destroy", C.pjsua_player_destroy, _slot(player_id, "player_id"))

    def create_playlist(self, filelist: Sequence[str], label: str = "playlist",
                        loop: bool = True) -> int:
        """Play WAV files one after another; returns the player id."""
        if isinstance(filelist, (str, bytes)) or not filelist:
            raise TypeError("filelist must be a non-empty list of file names")
        keep: list = []
        names = ffi.new("pj_str_t[]", len(filelist))
        keep.append(names)
        for i, f in enumerate(filelist):
            data = to_bytes(_existing_file(f, "playlist_create", self))
            buf = ffi.new("char[]", data)
            keep.append(buf)
            names[i].ptr, names[i].slen = buf, len(data)
        lbl = new_str(label, keep, "label")
        p_id = ffi.new("int *")
        self._call("playlist_create", C.pjsua_playlist_create, names, len(filelist), lbl,
                   0 if loop else C.PJMEDIA_FILE_NO_LOOP, p_id)
        return p_id[0]

    def playlist_get_slot(self, playlist_id: int) -> int:
        return self.player_get_slot(playlist_id)

    def playlist_destroy(self, playlist_id: int) -> None:
        self.player_destroy(playlist_id)

    def create_recorder(self, filename: str) -> int:
        """Record what the bridge sends to this port into a WAV file; returns its id."""
        if not isinstance(filename, str) or not filename:
            raise TypeError("filename must be a non-empty str")
        keep: list = []
        name = new_str(filename, keep, "filename")
        p_id = ffi.new("int *")
        self._call("recorder_create", C.pjsua_recorder_create, name, 0, ffi.NULL, -1, 0, p_id)
        return p_id[0]

    def recorder_get_slot(self, rec_id: int) -> int:
        return self._port_of("recorder_get_conf_port", C.pjsua_recorder_get_conf_port, rec_id)

    def recorder_destroy(self, rec_id: int) -> None:
        """Stop recording; the WAV file is complete when this returns."""
        self._call("recorder_destroy", C.pjsua_recorder_destroy, _slot(rec_id, "rec_id"))

    def _port_of(self, op: str, fn: Any, ident: int) -> int:
        _slot(ident, "id")
        self._enter(op, self)
        try:
            port = int(fn(ident))
        finally:
            self._leave()
        if port < 0:
            raise Error(op, self, C.PJ_EINVAL, f"no such id {ident}")
        return port

    # -- codecs

    def enum_codecs(self) -> List[CodecInfo]:
        count = ffi.new("unsigned *", 64)
        infos = ffi.new("pjsua_codec_info[]", 64)
        self._call("enum_codecs", C.pjsua_enum_codecs, infos, count)
        return [CodecInfo(infos[i]) for i in range(count[0])]

    def set_codec_priority(self, name: str, priority: int) -> None:
        """Set a codec's priority (0..255; 0 disables it). ``name`` may be a prefix
        such as ``"PCMU"`` or ``"speex/16000"``."""
        if not 0 <= int(priority) <= 255:
            raise ValueError("priority must be 0..255")
        if not isinstance(name, str) or not name:
            raise TypeError("name must be a non-empty str")
        known = [c.name for c in self.enum_codecs()]
        if not any(k.lower().startswith(name.lower()) for k in known):
            raise Error("codec_set_priority", self, C.PJ_ENOTFOUND, f"no codec {name!r}")
        keep: list = []
        self._call("codec_set_priority", C.pjsua_codec_set_priority,
                   new_str(name, keep), int(priority))


def _level(level: Any) -> float:
    value = float(level)
    if value < 0:
        raise ValueError("level must be >= 0")
    # pjsua takes an adjustment: 0 leaves the level unchanged, -1 mutes.
    return value - 1.0


def _existing_file(filename: Any, op: str, obj: Any) -> str:
    if not isinstance(filename, str) or not filename:
        raise TypeError("filename must be a non-empty str")
    if not os.path.isfile(filename):
        raise Error(op, obj, C.PJ_ENOTFOUND, f"no such file: {filename}")
    return filename
