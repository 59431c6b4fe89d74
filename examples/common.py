"""What every example starts with: command-line options for the local address, a
started library with one SIP transport, and a local account.

Each example imports this module (run the examples from this folder, or with it on
``PYTHONPATH``). Everything the examples bind to comes from the command line, so they
run against any peer, and the test suite runs them on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Tuple

import pjsua_ffi as pj


def say(text: str) -> None:
    """Print one line at once: the callback thread and the main thread both print."""
    sys.stdout.write(f"{text}\n")
    sys.stdout.flush()


def add_network_args(parser: argparse.ArgumentParser) -> None:
    """--bind, --port, --transport and --null-audio, shared by all examples."""
    parser.add_argument("--bind", default="",
                        help="local IP address for SIP and RTP (default: all; the "
                             "address pjsua guesses is advertised)")
    parser.add_argument("--port", type=int, default=0,
                        help="local SIP port (default: any free port)")
    parser.add_argument("--transport", choices=("udp", "tcp"), default="udp")
    parser.add_argument("--null-audio", action="store_true",
                        help="never open a sound device (the default when there is none)")
    parser.add_argument("--log-level", type=int, default=1,
                        help="pjsua's log level on the console, 0-6")


def start_lib(args: argparse.Namespace, max_calls: int = 4,
              clock_rate: int = 0) -> Tuple[pj.Lib, pj.Transport]:
    """Initialise and start the library with one transport, as ``args`` say."""
    lib = pj.Lib()
    ua = pj.UAConfig()
    ua.max_calls = max_calls
    media = pj.MediaConfig()
    media.no_vad = True
    if clock_rate:
        media.clock_rate = clock_rate
    if args.bind:
        # ICE would advertise every local address; an explicit address means only it.
        media.enable_ice = False
    lib.init(ua, pj.LogConfig(level=args.log_level, console_level=args.log_level), media)
    # pjsua opens the sound device when a call first connects to it; with no device
    # (a server, a container) that would fail, so use the null device instead.
    if args.null_audio or not lib.enum_snd_dev():
        lib.set_null_snd_dev()
        say("sound: null device" + ("" if args.null_audio else " (no sound device found)"))
    else:
        say("sound: default device")
    kind = pj.TransportType.TCP if args.transport == "tcp" else pj.TransportType.UDP
    cfg = pj.TransportConfig(args.port, args.bind, args.bind)
    transport = lib.create_transport(kind, cfg)
    lib.start()
    info = transport.info()
    say(f"listening on {info.host}:{info.port} ({args.transport})")
    return lib, transport


def local_account(lib: pj.Lib, transport: pj.Transport, args: argparse.Namespace,
                  user: str = "", cb: Optional[pj.AccountCallback] = None) -> pj.Account:
    """An account that needs no registrar: its address is the transport's address."""
    info = transport.info()
    cfg = pj.AccountConfig()
    cfg.id = f"sip:{user + '@' if user else ''}{info.host}:{info.port}"
    if args.transport == "tcp":
        cfg.id += ";transport=tcp"
    cfg.transport_id = transport._id
    if args.bind:
        cfg.rtp_transport_cfg = pj.TransportConfig(0, args.bind, args.bind)
    return lib.create_account(cfg, cb=cb)

