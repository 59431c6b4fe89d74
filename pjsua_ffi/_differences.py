"""Where pjsua-ffi deliberately differs from the legacy ``pjsua`` module.

A program written for the legacy module sees what that module shows it, except for the
differences listed here; each has its reason and the test that shows it. README's
migration section is rendered from this list (``python -m pjsua_ffi._differences``
prints it) and a test keeps the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

__all__ = ["Difference", "DIFFERENCES", "migration_markdown"]


@dataclass(frozen=True)
class Difference:
    key: str
    legacy: str  # what the legacy module does
    ours: str    # what pjsua-ffi does instead
    reason: str
    test: str    # the test that shows it: "tests/<file>.py::<function>"


DIFFERENCES: Tuple[Difference, ...] = (
    Difference(
        "error-is-exception",
        "`Error` is a plain class: on Python 3 `raise Error(...)` itself fails with "
        "`TypeError`, so a program can never catch it",
        "`Error` derives from `Exception` (same `op_name`, `obj`, `err_code`, `err_msg()` "
        "and `str()`)",
        "the legacy behaviour makes every failure a `TypeError`; `except pjsua.Error` "
        "is what legacy programs were written to do",
        "tests/test_legacy_diff.py::test_errors_carry_legacy_names_and_are_exceptions",
    ),
    Difference(
        "misuse-raises",
        "calls on objects of a destroyed library, on deleted accounts or buddies and on "
        "ids that pjsua reused reach pjsua as they are: some abort or crash the process, "
        "some act on whatever object now has the id",
        "they raise `Error` (a call or buddy whose id was reused by another one is gone "
        "for good; also a second `Buddy.delete()`, `set_default()` and `add_buddy()` of "
        "a deleted account, which legacy lets pass); nothing you call crashes the "
        "interpreter",
        "a Python call must never crash the interpreter or act on the wrong object",
        "tests/test_legacy_diff.py::test_dead_objects_fail_as_in_legacy",
    ),
    Difference(
        "argument-checks",
        "wrong Python types or out-of-range values go to C as they are (or fail with the "
        "C argument parser's `TypeError`)",
        "wrong types raise `TypeError`, out-of-range values `ValueError`, before pjsua "
        "is called",
        "pjsua asserts on some bad values; a clear Python exception says what was wrong",
        "tests/test_errors.py::test_bad_arguments",
    ),
    Difference(
        "config-lists",
        "`AccountConfig.build_config()` appends credentials to one list shared by every "
        "`AccountConfig` (a class attribute), so a second config carries the first one's "
        "credentials",
        "every config object has lists of its own",
        "credentials of one account must never be sent by another",
        "tests/test_legacy_diff.py::test_fresh_config_objects_hold_pjsua_runtime_defaults",
    ),
    Difference(
        "enum-constants",
        "constants (`CallState.CONFIRMED`, …) and the state fields of info objects are "
        "plain ints",
        "they are `IntEnum` members: equal to the same ints, same `str()` and `%d`, "
        "but `repr()` shows the name",
        "readable logs and debugging; arithmetic and comparisons are unchanged",
        "tests/test_legacy_diff.py::test_constants_equal_legacy_ints",
    ),
    Difference(
        "slot-of-unknown-player",
        "`player_get_slot()`, `playlist_get_slot()` and `recorder_get_slot()` of an "
        "unknown id return pjsua's error status as if it were a slot number",
        "they raise `Error` (same operation name)",
        "a status used as a slot connects the wrong bridge port",
        "tests/test_legacy_diff.py::test_media_errors_match_legacy",
    ),
    Difference(
        "callback-thread",
        "a worker thread calls `handle_events()` under the library lock and then sleeps "
        "50 ms, so SIP stops while a callback runs or another thread holds the lock",
        "one thread (`pjsua-callbacks`) delivers callbacks under the library lock, in "
        "order (those of the events an API call raises run inside that call, on its "
        "thread, as in legacy); SIP keeps running while callbacks or `auto_lock()` "
        "holders take their time; inside a callback `call.info()` is the snapshot of "
        "that event (so which free conference slot a call's stream gets after a re-INVITE, which "
        "depends on whether the bridge's clock ticked meanwhile, may differ); the "
        "callbacks pjsua waits for (`on_incoming_subscribe`, `on_transfer_request`, "
        "`on_replaced`) run at once on the thread that polls, before events queued "
        "earlier are delivered; so how one object's callbacks interleave with another's "
        "and with the program's main thread may differ (each one's own order does not)",
        "no 50 ms stall per event; a slow callback does not stop retransmissions",
        "tests/test_lib.py::test_callback_sees_the_state_of_its_own_event",
    ),
    Difference(
        "rx-data-type",
        "`rdata` of `on_incoming_call2` is the C type `_pjsua.Pjsip_Rx_Data`",
        "it is `pjsua_ffi.RxData` with the same `msg_info_buffer` and `msg_info_info`, "
        "plus `msg_info`, `src_address` and `header(name)`",
        "no C extension type of our own; the attributes are what programs use",
        "tests/test_legacy_diff.py::test_a_call_looks_the_same",
    ),
    Difference(
        "text-streams-off",
        "pjproject 2.17 offers an RFC 4103 text stream (`m=text`) in every call",
        "calls carry audio only unless `UAConfig.text_streams` is set",
        "stopping the text stream stalls hangup in pjproject 2.17",
        "tests/test_legacy_diff.py::test_a_call_looks_the_same",
    ),
    Difference(
        "pres-notify-status",
        "`Account.pres_notify()` ignores pjsua's status",
        "it raises `Error` when pjsua fails (for example on a subscription that ended)",
        "a NOTIFY that was not sent should not pass silently",
        "tests/test_presence.py::test_pending_subscriptions_accepted_or_rejected_later",
    ),
    Difference(
        "buddies-go-with-account",
        "`Account.delete()` leaves the account's buddies in pjsua: their subscriptions "
        "go on without an account until `lib.destroy()` ends them (each buddy's "
        "`on_state` reports the end then)",
        "`Account.delete()` ends its buddies' subscriptions at once (an un-SUBSCRIBE; "
        "each buddy's `on_state` still reports the end, as in legacy) and deletes them "
        "in pjsua after that; their methods raise and `info()` is empty outside that "
        "last `on_state`, as for any deleted buddy",
        "presence and messages of a buddy must not go out under no account",
        "tests/test_differential.py::test_scenario_matches_legacy[sample_presence]",
    ),
    Difference(
        "pending-notify",
        "when `on_incoming_subscribe` answers 202, the watcher hears nothing until the "
        "program calls `pres_notify()` (a buddy of ours reports ACCEPTED only)",
        "the watcher is sent a NOTIFY with `Subscription-State: pending` (no presence) "
        "at once, so a buddy of ours reports PENDING after ACCEPTED",
        "RFC 6665 (4.2.1.2) requires that NOTIFY; a subscriber may give up without it",
        "tests/test_presence.py::test_pending_subscriptions_accepted_or_rejected_later",
    ),
    Difference(
        "pager-status-of-deleted-account",
        "when pjsua reports the status of a MESSAGE whose account was deleted (at the "
        "latest in `lib.destroy()`, which ends its transaction), the module's dispatcher "
        "fails on the missing account (`AttributeError`) and the pjsua call then running "
        "raises `SystemError` (pjproject's samples/presence.py exits so)",
        "the status is dropped: no callback of the program is left to take it",
        "a bug of the legacy dispatcher; no program can rely on `destroy()` failing",
        "tests/test_differential.py::test_scenario_matches_legacy[sample_presence]",
    ),
    Difference(
        "garbage-values",
        "`CodecInfo.frm_ptime`, `CodecInfo.ptime`, `CodecParameter.ptime` and "
        "`BuddyInfo.sub_term_reason` hold whatever memory the C conversion reads (an "
        "int for the reason), `CodecInfo.ptime` is then overwritten with the payload "
        "type and `pt` stays 0",
        "frame time, packet time, payload type and the reason text as pjsua has them",
        "the legacy values are unpredictable, so no program can rely on them",
        "tests/test_legacy_diff.py::test_tutorial_media_shapes",
    ),
    Difference(
        "message-body-type",
        "message bodies given to `on_pager` are `str`",
        "they are `MessageBody`, a `str` subclass with the bytes as received in `.raw` "
        "(invalid UTF-8 replaced in the text)",
        "binary and non-UTF-8 bodies survive; the text compares and prints the same",
        "tests/test_legacy_diff.py::test_messages_presence_and_dtmf",
    ),
    Difference(
        "buddy-match",
        "a request (MESSAGE, typing, SUBSCRIBE) goes to a buddy's callbacks when "
        "`pjsua_buddy_find()` matches its From URI exactly, whichever account the buddy "
        "belongs to; so does the status of a MESSAGE a buddy sent (the first buddy with "
        "its To URI gets it)",
        "the buddy must belong to the receiving account, and a From URI without a port "
        "also matches a buddy on another port when no buddy matches exactly; a MESSAGE's "
        "status goes to the buddy (or account) that sent it",
        "pjsip leaves the port out of the From of local accounts, so a buddy on a "
        "non-default port would never get its messages or be recognised; a status "
        "belongs to the message's sender",
        "tests/test_legacy_diff.py::test_pager_status_goes_to_the_sending_buddy",
    ),
    Difference(
        "sipuri-fixes",
        "`SIPUri` keeps the `transport` parameter only when it is `udp`, its `encode()` "
        "raises `TypeError` when the URI has a port, and it needs a live library",
        "`transport` is the parameter as written, `encode()` gives the URI back, and it "
        "works without a library; text that is not a SIP URI raises an error that is both "
        "`TypeError` (as in legacy) and `ValueError`",
        "these are bugs of the legacy helper: no program can depend on them working",
        "tests/test_legacy_diff.py::test_info_objects_and_helpers",
    ),
    Difference(
        "transfer-call",
        "the call pjsua makes for an accepted transfer (REFER) carries the transferred "
        "call's user data, so its events reach the transferred call's callback, whose "
        "`info()` shows the old call; so does the call that replaces another (INVITE "
        "with Replaces): `on_replaced` is given the replaced `Call` itself",
        "that call is a `Call` of its own, without a callback until the application sets "
        "one; the transferred call's callback sees only its own events; `on_replaced` "
        "is given the new call",
        "one callback reporting two calls' states as one call's is a trap",
        "tests/test_legacy_diff.py::test_blind_transfer_callbacks",
    ),
    Difference(
        "transfer-status-cont",
        "the value `on_transfer_status` returns tells pjsua whether to report further "
        "NOTIFYs of the transfer",
        "every NOTIFY is reported, whatever the callback returns (it runs after pjsua "
        "went on); the `cont` it is given is pjsua's suggestion, as in legacy",
        "callbacks run on the callback thread, never inside pjsua",
        "tests/test_legacy_diff.py::test_blind_transfer_callbacks",
    ),
    Difference(
        "set-codec-parameter",
        "`set_codec_parameter()` always raises `TypeError` on Python 3 (it divides "
        "`ptime` with `/` and hands the float to a C field that takes an int), so "
        "nothing changes",
        "the `ptime`, `vad_enabled` and `plc_enabled` given are applied",
        "a call that can never succeed is a bug; the method's purpose is clear",
        "tests/test_media.py::test_codecs_enumerated_with_parameters_and_settable",
    ),
    Difference(
        "recorder-destroy-waits",
        "`recorder_destroy()` returns while the bridge still holds the recorder (its "
        "slot and WAV file are let go on a later clock tick), so a port created right "
        "after gets a higher slot number",
        "`recorder_destroy()` returns once the bridge let go of it: the WAV file is "
        "complete and the slot free",
        "a program reads the file it recorded right after stopping",
        "tests/test_media.py::test_players_playlists_recorders_and_levels",
    ),
    Difference(
        "buddy-contact",
        "`BuddyInfo.contact` is always `''`: pjsua (2.14-2.17) means to record it from "
        "the 2xx to its SUBSCRIBE but its check never matches",
        "the buddy's Contact from the subscription's dialog, once there is one",
        "the field is documented as the buddy's Contact; an always-empty value is a bug",
        "tests/test_presence.py::test_subscribe_and_follow_status_changes",
    ),
    Difference(
        "callback-error-leaks",
        "an exception raised by a callback that pjsua runs inside a library call (as "
        "`hangup_all()` does when it ends calls) is left pending, so that call raises "
        "`SystemError`",
        "exceptions in callbacks are logged and the call returns as usual",
        "an application's callback bug must not turn into a failure of an unrelated call",
        "tests/test_lib.py::test_exception_in_callback_is_logged_and_events_keep_coming",
    ),
    Difference(
        "hangup-reason",
        "`Call.hangup()` with its default reason `\"\"` (as the default "
        "`on_incoming_call` rejects a call) sends a final response with an empty reason "
        "phrase (`603 `), although its docstring promises the code's default phrase",
        "an empty reason sends the code's own phrase (`603 Decline`)",
        "the documented behaviour; pjsua's `answer()` treats an empty reason so, its "
        "`hangup()` does not",
        "tests/test_legacy_diff.py::test_default_rejection_has_a_reason_phrase",
    ),
    Difference(
        "valid-after-destroy",
        "`Call.is_valid()` after `lib.destroy()` returns pjsua's error status (a true "
        "value)",
        "it returns 0",
        "a call of a destroyed library is not valid; a true value invites using it",
        "tests/test_calls.py::test_account_and_call_utilities",
    ),
    Difference(
        "extras",
        "(absent)",
        "more than the legacy API: `UAConfig.outbound_proxy`, `stun_ignore_failure`, "
        "`enable_unsolicited_mwi`, `text_streams`; `CallCallback.on_request`; "
        "`AccountCallback.on_watcher_state`; `Account.send_typing_ind`; `BuddyInfo.note`, "
        "`sub_state_text`, `sub_term_code`; `Transport.enable()`/`disable()` (raise: "
        "pjsua has no such call); audio from and to numpy; messages up to 16 kB; "
        "`TransportConfig.tls_setting`, `AccountConfig.ipv6_media_use`, "
        "`MediaConfig.ice_max_host_cands`/`ice_aggressive`/`ice_trickle`, "
        "`UAConfig.follow_redirects`, `AccountInfo.reg_last_err`/`reg_last_err_msg`, "
        "`Call.media_transport_info()`, `Lib.tls_failures()`; `pjsua_ffi.aio`",
        "features a legacy program does not use and cannot notice",
        "tests/test_compat.py::test_legacy_names_and_defaults",
    ),
)


def migration_markdown() -> str:
    """The README's list of deliberate differences."""
    lines = []
    for d in DIFFERENCES:
        lines.append(f"- **{d.key}** — legacy: {d.legacy}. pjsua-ffi: {d.ours}. "
                     f"Why: {d.reason}. (`{d.test}`)")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(migration_markdown(), end="")
