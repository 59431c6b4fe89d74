"""pjsua's lock order: a dialog's lock first, then PJSUA_LOCK. Two paths of pjproject
2.17 took them the other way round and deadlocked against a thread that keeps the rule
(see build_pjsip.py's SOURCE_FIXES), and so did our own pres_notify shim (presence.c).
Each test drives one interleaving on purpose, over and over, from a raw SIP socket, so
that the old code hangs within seconds; a watchdog then prints every thread's C and
Python stack and fails the test at once (the scenarios: tests/scenarios/lock_order.py).

``pytest -k lock_order`` selects all three. ``PJSUA_FFI_LOCK_ORDER_SECONDS`` sets how
long each one keeps trying (default 10).
"""

from __future__ import annotations

import os

from support import run_scenario

from tests.scenarios import lock_order

SECONDS = float(os.environ.get("PJSUA_FFI_LOCK_ORDER_SECONDS", "10"))

def test_lock_order_hangup_while_replaces_arrive() -> None:
    r = run_scenario(lock_order.hangup_vs_replaces, str(SECONDS), timeout=SECONDS + 90)
    # Every round's calls came up and went down, and pjsip really looked at the live
    # dialogs the INVITEs named: it turned them down as early-only (486).
    assert r["rounds"] >= 1 and r["sent"] > 0
    codes = {int(k): v for k, v in r["codes"].items()}
    assert codes.get(486, 0) > 0, codes
    assert set(codes) <= {486, 481, 603}, codes


def test_lock_order_account_deleted_while_watchers_unsubscribe() -> None:
    r = run_scenario(lock_order.acc_del_vs_unsubscribe, str(SECONDS), timeout=SECONDS + 90)
    assert r["rounds"] >= 1
    answers = {int(k): v for k, v in r["unsub_answers"].items()}
    # Every un-SUBSCRIBE was answered: by its live subscription (200), or, once the
    # deletion had ended it, by the dialog pjsip keeps for a moment (500, no usage
    # left) or by nobody's dialog (481).
    assert set(answers) <= {200, 481, 500}, answers
    assert sum(answers.values()) == r["watchers"], answers


def test_lock_order_watcher_notified_while_it_unsubscribes() -> None:
    r = run_scenario(lock_order.notify_vs_unsubscribe, str(SECONDS), timeout=SECONDS + 90)
    assert r["rounds"] >= 1
    # Every NOTIFY went out or was refused because that watcher had left; every
    # un-SUBSCRIBE found its live subscription.
    assert r["sent"] + r["ended"] == 3 * r["watchers"]
    assert r["sent"] > 0
    assert {int(k): v for k, v in r["unsub_answers"].items()} == {200: r["watchers"]}
