"""Presence and instant messages: watch buddies, publish a status, chat.

    python presence_im.py --port 5070 --note "at my desk" --echo
    python presence_im.py --buddy sip:127.0.0.1:5070 --send "hello" --exit-after 1

The first program accepts whoever subscribes to its status and answers each message
(``--echo``). The second subscribes to it, prints its status as it changes, sends it a
message once it is online, and ends after one message back. Without a registrar the
two talk directly; with one, give each an account there instead.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Dict, List

from common import add_network_args, local_account, say, start_lib

import pjsua_ffi as pj


class Chat(pj.AccountCallback):
    """Accepts subscriptions and prints (or echoes) messages sent to the account."""

    def __init__(self, echo: bool, exit_after: int) -> None:
        super().__init__()
        self.echo = echo
        self.exit_after = exit_after
        self.received = 0
        self.done = threading.Event()
        # From headers carry no port; a watcher's SUBSCRIBE has a Contact that does.
        self.contacts: Dict[str, str] = {}

    def on_incoming_subscribe(self, buddy: pj.Buddy | None, from_uri: str, contact_uri: str,
                              pres_obj: object) -> tuple[int, str]:
        say(f"{from_uri} subscribes to my status: accepted")
        self.contacts[from_uri] = contact_uri
        return 200, ""

    def on_pager(self, from_uri: str, contact: str, mime_type: str, body: str) -> None:
        # Messages from someone who is not a buddy of ours arrive here.
        if self.echo:
            reply_to = contact or self.contacts.get(from_uri, from_uri)
            self.account.send_pager(reply_to, f"echo: {body}")
        self.count(from_uri, body)

    def count(self, from_uri: str, body: str) -> None:
        say(f"message from {from_uri}: {body}")
        self.received += 1
        if self.exit_after and self.received >= self.exit_after:
            self.done.set()

    def on_pager_status(self, to_uri: str, body: str, im_id: int, code: int,
                        reason: str) -> None:
        say(f"message to {to_uri}: {code} {reason}")


class Watch(pj.BuddyCallback):
    """Prints a buddy's status; sends it ``greeting`` the first time it is online."""

    def __init__(self, greeting: str, chat: Chat) -> None:
        super().__init__()
        self.greeting = greeting
        self.chat = chat

    def on_state(self) -> None:
        info = self.buddy.info()
        note = f" ({info.online_text})" if info.online_text else ""
        status = pj.BuddyStatus(info.online_status).name
        say(f"buddy {info.uri}: {info.sub_state.name}, {status}{note}")
        if info.online_status == pj.BuddyStatus.ONLINE and self.greeting:
            text, self.greeting = self.greeting, ""
            self.buddy.send_pager(text)
            say(f"sent to {info.uri}: {text}")

    def on_pager(self, mime_type: str, body: str) -> None:
        # A buddy's messages arrive at its callback, not at the account's.
        self.chat.count(self.buddy.info().uri, body)

    def on_pager_status(self, body: str, im_id: int, code: int, reason: str) -> None:
        say(f"message to {self.buddy.info().uri}: {code} {reason}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--user", default="chat", help="the user part of my address")
    parser.add_argument("--buddy", action="append", default=[], help="a buddy's URI")
    parser.add_argument("--note", default="", help="the note in my published status")
    parser.add_argument("--send", default="", help="a message for each buddy once online")
    parser.add_argument("--echo", action="store_true", help="answer every message")
    parser.add_argument("--exit-after", type=int, default=0,
                        help="end after this many messages (0: at end of input)")
    add_network_args(parser)
    args = parser.parse_args()

    lib, transport = start_lib(args)
    try:
        chat = Chat(args.echo, args.exit_after)
        account = local_account(lib, transport, args, user=args.user, cb=chat)
        # What watchers see: online, with a note.
        account.set_presence_status(True, pj.PresenceActivity.UNKNOWN, args.note)
        say(f"my address: {account.info().uri}, online")
        buddies: List[pj.Buddy] = []
        for uri in args.buddy:
            buddy = account.add_buddy(uri, Watch(args.send, chat))
            buddy.subscribe()
            buddies.append(buddy)
        if args.exit_after:
            chat.done.wait()
        else:
            sys.stdin.read()  # until end of input (Ctrl-D)
        for buddy in buddies:
            buddy.unsubscribe()
        return 0
    finally:
        lib.destroy()


if __name__ == "__main__":
    sys.exit(main())
