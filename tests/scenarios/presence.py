"""Scenarios of tests/test_presence.py (the recording callbacks come from
tests/ua_peer.py)."""

from __future__ import annotations

import pjsua_ffi as pj
from tests.scenarios import main
from tests.support import LOOPBACK, report
from tests.ua_peer import AccRec, BuddyRec, start, ua_account, uri_of, wait_event, wait_for


def publish_through_kamailio(kam_port: str) -> None:
    port = int(kam_port)
    lib, (ta, tb) = start(transports=("udp", "udp"))

    def account(user, tp, publish):
        cfg = pj.AccountConfig("127.0.0.1", user, "pw", registrar=f"sip:127.0.0.1:{port}",
                               proxy=f"sip:127.0.0.1:{port}")
        cfg.transport_id = tp._id
        cfg.publish_enabled = publish
        cfg.pidf_tuple_id = f"{user}-tuple"
        cfg.rtp_transport_cfg = pj.TransportConfig(0, LOOPBACK, LOOPBACK)
        acc = lib.create_account(cfg, cb=AccRec(user))
        assert wait_for(lambda: acc.info().reg_status == 200, 5)
        return acc

    alice = account("alice", ta, True)
    bob = account("bob", tb, False)
    alice.set_presence_status(True, pj.PresenceActivity.BUSY, "at lunch")
    buddy = bob.add_buddy("sip:alice@127.0.0.1", BuddyRec("alice"))
    buddy.subscribe()
    out = {}
    out["lunch"] = wait_event(lambda e: e[0] == "buddy" and e[3] == "at lunch")
    alice.set_presence_status(True, pj.PresenceActivity.AWAY, "back soon")
    out["away"] = wait_event(lambda e: e[0] == "buddy" and e[3] == "back soon")
    alice.set_basic_status(False)
    out["offline"] = wait_event(lambda e: e[0] == "buddy" and e[2] == 2)
    report(**out)


def bad_input() -> None:
    lib, (ta, tb) = start(transports=("udp", "udp"))
    alice = ua_account(lib, ta, "alice", cb=AccRec("alice"))
    bob = ua_account(lib, tb, "bob", cb=AccRec("bob", {"alice": (403, "")}))
    b_uri = uri_of(tb, "bob")
    out = {}

    def attempt(name, fn, *args):
        try:
            fn(*args)
            out[name] = "no error"
        except pj.Error as exc:
            out[name] = [exc.op_name, exc.err_code]
        except (TypeError, ValueError) as exc:
            out[name] = type(exc).__name__

    for i, uri in enumerate(["not a uri", "sip:", "tel:+123456", "sip:a@b\x00c", "<sip:x@y"]):
        attempt(f"bad_uri{i}", alice.add_buddy, uri)
    attempt("uri_type", alice.add_buddy, 42)
    buddy = alice.add_buddy(b_uri, BuddyRec("bob"))
    attempt("twice", alice.add_buddy, b_uri)
    attempt("twice_name_addr", alice.add_buddy, f'"Bob" <{b_uri}>')
    other = bob.add_buddy(uri_of(ta, "alice"))  # another account may have the same buddy
    attempt("cb_type", alice.add_buddy, uri_of(ta, "carol"), object())

    # A rejected subscription: the watcher object is dead once the callback returned.
    buddy.subscribe()
    wait_event(lambda e: e[0] == "buddy" and e[7] == "TERMINATED")
    watcher = bob._cb.watchers["alice"]
    attempt("stale_watcher", bob.pres_notify, watcher, pj.SubscriptionState.ACTIVE)
    attempt("not_a_watcher", bob.pres_notify, 12345, pj.SubscriptionState.ACTIVE)
    attempt("bad_state", bob.pres_notify, watcher, pj.SubscriptionState.SENT)
    attempt("other_account", alice.pres_notify, watcher, pj.SubscriptionState.ACTIVE)
    attempt("bad_activity", alice.set_presence_status, True, 99)
    attempt("bad_im_id", buddy.send_pager, "x", "id")
    attempt("bad_ctype", buddy.send_pager, "x", 1, "plain")

    # A deleted buddy, even after pjsua reused its id for a new one.
    old_id = buddy._id
    buddy.delete()
    fresh = alice.add_buddy(uri_of(ta, "dave"))
    out["id_reused"] = fresh._id == old_id
    for op, args in [("info", ()), ("subscribe", ()), ("unsubscribe", ()), ("delete", ()),
                     ("send_pager", ("hi",)), ("send_typing_ind", (True,))]:
        attempt(f"deleted_{op}", getattr(buddy, op), *args)
    out["fresh_info"] = fresh.info().uri
    out["valid"] = [buddy.is_valid(), fresh.is_valid()]

    # Deleting the account deletes its buddies.
    alice.delete()
    attempt("account_deleted", fresh.info)
    lib.destroy()
    attempt("after_destroy", other.subscribe)
    report(**out)


if __name__ == "__main__":
    main(globals())
