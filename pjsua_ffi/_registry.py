"""The objects one :class:`Lib` handed out, and the tokens that name them in C.

pjsua reuses its integer ids (calls, buddies), so each object also carries a token that
C keeps in pjsua's user data; an event finds its object by that token. The Python side
takes its tokens from one source, :meth:`Registry.token`, counting down from -1: C
numbers the calls it sees first (incoming, replacing) upwards from 1, so the two never
meet. Everything here belongs to one library; :meth:`Registry.close` marks every object
dead when it is destroyed.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections import OrderedDict
from typing import Any, Dict, Optional, Tuple

__all__ = ["Registry"]

_MAX_IM_PENDING = 65536  # statuses awaited at once; the oldest is forgotten beyond this


class Registry:
    """Calls, accounts, buddies, watchers, transports, awaited message statuses and
    media objects of one library."""

    def __init__(self) -> None:
        self._tokens = itertools.count(-1, -1)
        self.calls: Dict[int, Any] = {}          # token -> Call
        self.derived: Dict[Tuple[int, int], Any] = {}  # (token, call id): see call.py
        self.accounts: Dict[int, Any] = {}       # account id -> Account
        self.transports: Dict[int, Any] = {}     # transport id -> Transport
        # Live buddies by token; each account's ``_buddies`` holds the strong references.
        self.buddies: "weakref.WeakValueDictionary[int, Any]" = weakref.WeakValueDictionary()
        self.watchers: Dict[int, Any] = {}       # C token -> Watcher not ended yet
        # Buddies of deleted accounts whose subscription is ending, by token: kept (and
        # their events delivered) until pjsua reports the end, then deleted in pjsua.
        self.ending: Dict[int, Any] = {}
        # Message key -> (sender, im_id) until its delivery status arrives (im.py).
        self.im_pending: "OrderedDict[int, Tuple[Any, int]]" = OrderedDict()
        self.im_lock = threading.Lock()
        # Media (media.py, audio_ports.py).
        self.media_lock = threading.Lock()
        self.players: Dict[int, Any] = {}        # player id -> _Player
        self.player_tokens: Dict[int, Any] = {}  # token -> _Player
        self.recorders: Dict[int, int] = {}      # recorder id -> slot
        self.ports: Dict[int, Any] = {}          # token -> AudioSource / AudioSink
        self.pump: Any = None                    # the media pump, once started
        self.bridge: Optional[Tuple[int, int, int]] = None  # clock rate, spf, channels

    def token(self) -> int:
        """A new token, never 0 and never one C gives out."""
        return next(self._tokens)

    # -- calls and accounts

    def add_call(self, call: Any, token: int = 0) -> int:
        """Know ``call`` by ``token`` (C's, for calls C saw first) or a new one."""
        token = token or next(self._tokens)  # self.token(), one frame less per call
        call._token = token
        self.calls[token] = call
        return token

    def drop_call(self, call: Any) -> None:
        self.calls.pop(call._token, None)

    def drop_account(self, acc: Any) -> None:
        acc_id = acc._id
        if self.accounts.get(acc_id) is acc:
            del self.accounts[acc_id]

    # -- messages

    def remember_im(self, sender: Any, im_id: int) -> int:
        """Keep who sent a message until its status comes; returns its key."""
        key = next(self._tokens)  # self.token(), one frame less per message
        with self.im_lock:
            if len(self.im_pending) >= _MAX_IM_PENDING:
                self.im_pending.popitem(last=False)  # O(1), however many went before it
            self.im_pending[key] = (sender, im_id)
        return key

    def recall_im(self, key: int) -> Tuple[Any, int]:
        """(sender, im_id) of a message; (None, key) when it is not known."""
        with self.im_lock:
            entry = self.im_pending.pop(key, None)
        return entry if entry is not None else (None, key)

    def forget_im(self, key: int) -> None:
        with self.im_lock:
            self.im_pending.pop(key, None)

    # -- the end

    def close_media(self) -> None:
        """Forget the media objects (their ports are closed by the caller)."""
        self.ports.clear()
        self.players.clear()
        self.player_tokens.clear()
        self.recorders.clear()
        self.bridge = None

    def close(self) -> None:
        """The library is destroyed: every object it handed out is dead."""
        for call in list(self.calls.values()):
            call._alive = False
        self.calls.clear()
        self.derived.clear()
        for acc in self.accounts.values():
            acc._deleted = True
            for buddy in acc._buddies.values():
                buddy._deleted = True
        self.accounts.clear()
        self.buddies.clear()
        for buddy in self.ending.values():
            buddy._deleted = True
        self.ending.clear()
        for tp in self.transports.values():
            tp._closed = True
        self.watchers.clear()  # (a Watcher is invalid once its library is not running)
        with self.im_lock:
            self.im_pending.clear()
        self.close_media()
