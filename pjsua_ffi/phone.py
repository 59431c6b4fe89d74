"""``python -m pjsua_ffi phone``: a small interactive soft-phone.

One account (registered at ``--registrar``, or a local one reachable at its own
address), one call at a time, buddies and instant messages. Commands are read line by
line from the terminal; what happens is printed as one line per event. Audio goes to the
sound device, or the null device when there is none; ``--play`` and ``--record`` send a
WAV file into calls and record calls instead.
"""

from __future__ import annotations

import argparse
import getpass
import shlex
import sys
import threading
import time
from typing import Callable, Dict, List, Optional

from .account import Account, AccountCallback
from .buddy import Buddy, BuddyCallback, BuddyStatus
from .call import Call, CallCallback
from .config import AccountConfig, LogConfig, MediaConfig, TransportConfig, UAConfig
from .constants import CallState, MediaState, TransportType
from .errors import Error
from .lib import Lib
from .uri import SIPUri

COMMANDS = """\
commands:
  call URI          call someone, e.g. call sip:bob@example.org
  answer            answer the ringing call
  hangup            hang up (or reject a ringing call)
  hold / unhold     put the call on hold, resume it
  dtmf DIGITS       send DTMF digits (0-9 * # A-D) in the call
  msg URI TEXT      send an instant message
  buddy URI         watch someone's presence
  status            registration, the call and buddies
  help              this list
  quit              hang up, unregister and leave"""

EPILOG = COMMANDS + """

examples:
  python -m pjsua_ffi phone --registrar sip:sip.example.org --user alice
  python -m pjsua_ffi phone --bind 127.0.0.1 --port 5070     (no registrar)"""


def say(text: str) -> None:
    """One write per line: events come from the callback thread while the user types."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class Phone(AccountCallback):
    """The account's callback and the phone's state (guarded by ``lock``)."""

    def __init__(self, lib: Lib, play_slot: int, record_slot: int) -> None:
        super().__init__()
        self.lib = lib
        self.play_slot = play_slot      # -1: the sound device (slot 0)
        self.record_slot = record_slot  # -1: none
        self.lock = threading.Lock()
        self.call: Optional[Call] = None
        self.started: Dict[int, float] = {}
        self.buddies: List[Buddy] = []

    # -- account events
    def on_reg_state(self) -> None:
        i = self.account.info()
        if i.reg_expires > 0 and i.reg_status // 100 == 2:
            say(f"registration: {i.reg_status} {i.reg_reason} (expires in {i.reg_expires} s)")
        else:
            say(f"registration: {i.reg_status} {i.reg_reason} (not registered)")

    def on_incoming_call(self, call: Call) -> None:
        with self.lock:
            busy = self.call is not None
            if not busy:
                self.call = call
        if busy:
            say(f"busy: rejected a call from {call.info().remote_uri}")
            call.hangup(486, "Busy Here")
            return
        call.set_callback(CallEvents(self))
        call.answer(180)
        say(f"incoming call from {call.info().remote_uri}: type answer or hangup")

    def on_pager(self, from_uri: str, contact: str, mime_type: str, body: str) -> None:
        say(f"message from {from_uri}: {body}")

    def on_pager_status(self, to_uri: str, body: str, im_id: int, code: int,
                        reason: str) -> None:
        say(f"message to {to_uri}: {code} {reason}")

    # -- helpers for the call's events and the commands
    def connect(self, slot: int) -> None:
        source = self.play_slot if self.play_slot >= 0 else 0
        self.lib.conf_connect(source, slot)
        self.lib.conf_connect(slot, 0)
        if self.record_slot >= 0:
            self.lib.conf_connect(slot, self.record_slot)

    def ended(self, call: Call) -> None:
        with self.lock:
            if self.call == call:
                self.call = None

    def current(self) -> Optional[Call]:
        with self.lock:
            if self.call is None:
                say("no call")
            return self.call


class CallEvents(CallCallback):
    """Prints one call's events and wires its audio."""

    def __init__(self, phone: Phone) -> None:
        super().__init__()
        self.phone = phone

    def on_state(self) -> None:
        i = self.call.info()
        if i.state == CallState.CONFIRMED:
            self.phone.started[self.call._id] = time.monotonic()
        elif i.state == CallState.DISCONNECTED:
            # Before the line is printed: whoever reads it may make the next call.
            self.phone.started.pop(self.call._id, None)
            self.phone.ended(self.call)
        code = f" ({i.last_code} {i.last_reason})" if i.last_code else ""
        say(f"call {i.remote_uri}: {i.state.name}{code}")

    def on_media_state(self) -> None:
        i = self.call.info()
        say(f"media: {i.media_state.name}")
        if i.media_state == MediaState.ACTIVE:
            self.phone.connect(i.conf_slot)

    def on_dtmf_digit(self, digits: str) -> None:
        say(f"dtmf received: {digits}")

    def on_pager(self, mime_type: str, body: str) -> None:
        say(f"message in the call: {body}")


class BuddyEvents(BuddyCallback):
    """Prints a watched buddy's status and its messages."""

    def on_state(self) -> None:
        say(f"buddy {describe_buddy(self.buddy)}")

    def on_pager(self, mime_type: str, body: str) -> None:
        say(f"message from {self.buddy.info().uri}: {body}")

    def on_pager_status(self, body: str, im_id: int, code: int, reason: str) -> None:
        say(f"message to {self.buddy.info().uri}: {code} {reason}")


def describe_buddy(buddy: Buddy) -> str:
    """``URI: online (note)`` for a buddy."""
    i = buddy.info()
    status = BuddyStatus(i.online_status).name.lower()
    text = f" ({i.online_text})" if i.online_text else ""
    return f"{i.uri}: {status}{text}"


def run_command(line: str, phone: Phone, account: Account) -> bool:
    """Carry out one typed line; False when the user wants to quit."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        say(f"cannot read that: {exc}")
        return True
    if not words:
        return True
    cmd, args = words[0].lower(), words[1:]

    def need(n: int, usage: str) -> bool:
        if len(args) < n:
            say(f"usage: {usage}")
            return False
        return True

    on_call: Dict[str, Callable[[Call], None]] = {
        "answer": lambda c: c.answer(200),
        "hangup": lambda c: c.hangup(),
        "hold": lambda c: c.hold(),
        "unhold": lambda c: c.unhold(),
    }
    if cmd in ("quit", "exit"):
        return False
    if cmd == "help":
        say(COMMANDS)
    elif cmd == "call" and need(1, "call URI"):
        with phone.lock:
            if phone.call is not None:
                say("there is a call already: hang up first")
                return True
            # Under the lock, so that the call's first event finds it current.
            phone.call = account.make_call(args[0], CallEvents(phone))
    elif cmd in on_call:
        call = phone.current()
        if call is not None:
            on_call[cmd](call)
    elif cmd == "dtmf" and need(1, "dtmf DIGITS"):
        call = phone.current()
        if call is not None:
            call.dial_dtmf(args[0])
            say(f"dtmf sent: {args[0]}")
    elif cmd == "msg" and need(2, "msg URI TEXT"):
        account.send_pager(args[0], " ".join(args[1:]))
    elif cmd == "buddy" and need(1, "buddy URI"):
        buddy = account.add_buddy(args[0], BuddyEvents())
        buddy.subscribe()
        phone.buddies.append(buddy)
        say(f"watching {args[0]}")
    elif cmd == "status":
        show_status(phone, account)
    elif cmd not in ("call", "dtmf", "msg", "buddy"):
        say(f"unknown command {cmd!r}: type help")
    return True


def show_status(phone: Phone, account: Account) -> None:
    """The ``status`` command: registration, the call, the buddies."""
    i = account.info()
    if i.reg_status:
        say(f"account {i.uri}: registration {i.reg_status} {i.reg_reason}, "
            f"expires in {max(i.reg_expires, 0)} s")
    else:
        say(f"account {i.uri}: no registrar")
    with phone.lock:
        call = phone.call
    if call is None:
        say("call: none")
    else:
        c = call.info()
        since = phone.started.get(call._id)
        length = f", {time.monotonic() - since:.0f} s" if since is not None else ""
        say(f"call {c.remote_uri}: {c.state.name}, media {c.media_state.name}{length}")
    for buddy in phone.buddies:
        say(f"buddy {describe_buddy(buddy)}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The phone's command-line options (``python -m pjsua_ffi phone --help``)."""
    parser.add_argument("--registrar", help="register there, e.g. sip:sip.example.org "
                        "(without it the account is local: sip:USER@BIND:PORT)")
    parser.add_argument("--user", default="phone", help="user name (default: phone)")
    parser.add_argument("--password", help="password for the registrar (asked for when "
                        "--registrar is given without it)")
    parser.add_argument("--domain", help="the account's domain (default: the registrar's host)")
    parser.add_argument("--bind", default="", help="local IP address for SIP and RTP "
                        "(default: all; pjsua advertises the address it guesses)")
    parser.add_argument("--port", type=int, default=0, help="local SIP port (default: any)")
    parser.add_argument("--transport", choices=("udp", "tcp", "tls"), default="udp")
    parser.add_argument("--play", metavar="WAV", help="send this WAV file (looped) into "
                        "calls instead of the microphone")
    parser.add_argument("--record", metavar="WAV", help="record what calls bring to this file")
    parser.add_argument("--null-audio", action="store_true",
                        help="never open a sound device (the default when there is none)")
    parser.add_argument("--log-level", type=int, default=0,
                        help="pjsua's log lines on the console, 0 (none) to 6")


def main(args: argparse.Namespace) -> int:
    """Run the phone until ``quit`` or the end of input; the exit code."""
    password = args.password
    if args.registrar and password is None:
        password = getpass.getpass(f"password for {args.user}: ")

    lib = Lib()
    ua = UAConfig()
    ua.max_calls = 4
    media = MediaConfig()
    media.no_vad = True
    if args.bind:
        media.enable_ice = False  # ICE would advertise every local address
    lib.init(ua, LogConfig(level=max(args.log_level, 1), console_level=args.log_level), media)
    try:
        if args.null_audio or not lib.enum_snd_dev():
            lib.set_null_snd_dev()
            say("sound: null device" + ("" if args.null_audio else " (no sound device found)"))
        kinds = {"udp": TransportType.UDP, "tcp": TransportType.TCP, "tls": TransportType.TLS}
        transport = lib.create_transport(kinds[args.transport],
                                         TransportConfig(args.port, args.bind, args.bind))
        lib.start()
        play_slot = record_slot = -1
        if args.play:
            play_slot = lib.player_get_slot(lib.create_player(args.play, loop=True))
        recorder = lib.create_recorder(args.record) if args.record else None
        if recorder is not None:
            record_slot = lib.recorder_get_slot(recorder)
        phone = Phone(lib, play_slot, record_slot)

        t = transport.info()
        suffix = f";transport={args.transport}" if args.transport != "udp" else ""
        if args.registrar:
            registrar = args.registrar
            if suffix and "transport=" not in registrar.lower():
                registrar += suffix  # reach the registrar over the chosen transport
            cfg = AccountConfig(args.domain or SIPUri(registrar).host, args.user,
                                password or "", registrar=registrar, proxy=registrar)
        else:
            cfg = AccountConfig()
            cfg.id = f"sip:{args.user}@{t.host}:{t.port}{suffix}"
        cfg.transport_id = transport._id
        if args.bind:
            cfg.rtp_transport_cfg = TransportConfig(0, args.bind, args.bind)
        account = lib.create_account(cfg, cb=phone)
        say(f"phone ready: {account.info().uri} on {t.host}:{t.port} ({args.transport}); "
            "type help for commands")
        for line in sys.stdin:
            try:
                if not run_command(line, phone, account):
                    break
            except (Error, ValueError) as exc:  # a bad URI, digits the call refused, ...
                say(f"error: {exc}")
        lib.hangup_all()
        if recorder is not None:
            lib.recorder_destroy(recorder)
    finally:
        lib.destroy()
    say("bye")
    return 0
