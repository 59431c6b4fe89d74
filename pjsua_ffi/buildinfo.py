"""What this build of the extension holds: the pjproject version it was compiled
against and its optional parts, as flags compiled into the extension
(``_csrc/features.c``) rather than guessed from the system."""

from __future__ import annotations

from typing import Dict, List

from . import __version__
from ._binding import C, ffi


def pjproject_version() -> str:
    """pjproject's version string, e.g. ``"2.17"``."""
    return str(ffi.string(C.pjffi_pj_version()).decode())


def features() -> Dict[str, bool]:
    """Optional parts: ``tls``, ``srtp``, ``opus``, and the sound backends
    ``portaudio`` and ``alsa`` (neither: only the null sound device)."""
    f = int(C.pjffi_build_features())
    return {
        "tls": bool(f & C.PJFFI_FEATURE_TLS),
        "srtp": bool(f & C.PJFFI_FEATURE_SRTP),
        "opus": bool(f & C.PJFFI_FEATURE_OPUS),
        "portaudio": bool(f & C.PJFFI_FEATURE_PORTAUDIO),
        "alsa": bool(f & C.PJFFI_FEATURE_ALSA),
    }


def version_lines() -> List[str]:
    """The lines ``python -m pjsua_ffi --version`` prints."""
    f = features()
    backends = [name for key, name in (("portaudio", "PortAudio"), ("alsa", "ALSA"))
                if f[key]]
    yes = {True: "yes", False: "no"}
    return [
        f"pjsua-ffi {__version__}",
        f"pjproject {pjproject_version()}",
        f"TLS: {yes[f['tls']]}",
        f"SRTP: {yes[f['srtp']]}",
        f"Opus: {yes[f['opus']]}",
        "sound devices: " + (", ".join(backends) if backends else "none (null device only)"),
    ]
