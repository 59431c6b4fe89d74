"""What the media functions of :class:`~pjsua_ffi.lib.Lib` return: sound devices,
codecs and their parameters, conference slots, and stream statistics (snapshots read
from pjsua's structures)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from ._binding import ffi, from_str

__all__ = ["SoundDeviceInfo", "CodecInfo", "CodecParameter", "ConfPortInfo", "StreamStats"]


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


class CodecInfo:
    """A codec, its priority (0 disables it) and its default parameters.

    ``ptime`` is the packet time in ms (frames per packet × ``frm_ptime``) and ``pt``
    the RTP payload type.
    """

    def __init__(self, codec_info: Any = None, codec_param: Any = None) -> None:
        self.name = ""
        self.priority = 0
        self.clock_rate = 0
        self.channel_count = 0
        self.avg_bps = 0
        self.frm_ptime = 0
        self.ptime = 0
        self.pt = 0
        self.vad_enabled: int = False
        self.plc_enabled: int = False
        if codec_info is not None:
            self.name = from_str(codec_info.codec_id)
            self.priority = int(codec_info.priority)
        if codec_param is not None:
            self.clock_rate = int(codec_param.clock_rate)
            self.channel_count = int(codec_param.channel_cnt)
            self.avg_bps = int(codec_param.avg_bps)
            self.frm_ptime = int(codec_param.frm_ptime)
            self.ptime = int(codec_param.frm_ptime) * int(codec_param.frm_per_pkt)
            self.pt = int(codec_param.pt)
            self.vad_enabled = int(codec_param.vad)  # ints, as the legacy module has them
            self.plc_enabled = int(codec_param.plc)


class CodecParameter:
    """The settings of one codec that :meth:`Lib.set_codec_parameter` changes: packet
    time in ms (a multiple of the codec's frame time), VAD and PLC."""

    def __init__(self, codec_param: Any = None) -> None:
        self.ptime = 0
        self.vad_enabled: int = False
        self.plc_enabled: int = False
        self._codec_param: Optional[Dict[str, int]] = None
        if codec_param is not None:
            self.ptime = int(codec_param.frm_ptime) * int(codec_param.frm_per_pkt)
            self.vad_enabled = int(codec_param.vad)  # ints, as the legacy module has them
            self.plc_enabled = int(codec_param.plc)
            self._codec_param = {"frm_ptime": int(codec_param.frm_ptime),
                                 "clock_rate": int(codec_param.clock_rate)}


class ConfPortInfo:
    """A conference bridge slot (not in the legacy module)."""

    def __init__(self, ci: Any) -> None:
        self.slot = int(ci.slot_id)
        self.name = from_str(ci.name)
        self.clock_rate = int(ci.clock_rate)
        self.channel_count = int(ci.channel_count)
        self.samples_per_frame = int(ci.samples_per_frame)
        self.bits_per_sample = int(ci.bits_per_sample)
        self.tx_level = float(ci.tx_level_adj)
        self.rx_level = float(ci.rx_level_adj)
        self.listener_count = int(ci.listener_cnt)

    def __repr__(self) -> str:
        return (f"<ConfPortInfo {self.slot} {self.name!r} {self.clock_rate} Hz "
                f"listeners={self.listener_count}>")


class StreamStats:
    """Figures of a call's audio stream (not in the legacy module): the codec in use,
    the packet time, RTP packets sent, received and lost, and the jitter buffer's
    settings (in frames) and current size."""

    def __init__(self, s: Any) -> None:
        self.codec = ffi.string(s.codec).decode("ascii", "replace")
        self.clock_rate = int(s.clock_rate)
        self.ptime = int(s.ptime)
        self.vad_enabled = bool(s.vad)
        self.tx_packets = int(s.tx_pkt)
        self.rx_packets = int(s.rx_pkt)
        self.rx_lost = int(s.rx_loss)
        self.rx_discarded = int(s.rx_discard)
        self.jb_frame_size = int(s.jb_frame_size)
        self.jb_min_prefetch = int(s.jb_min_prefetch)
        self.jb_max_prefetch = int(s.jb_max_prefetch)
        self.jb_max_count = int(s.jb_max_count)
        self.jb_size = int(s.jb_size)
        self.jb_avg_delay = int(s.jb_avg_delay)

    def __repr__(self) -> str:
        return (f"<StreamStats {self.codec}/{self.clock_rate} ptime={self.ptime} "
                f"tx={self.tx_packets} rx={self.rx_packets} lost={self.rx_lost}>")
