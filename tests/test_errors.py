"""Bad input gets a clear error that names the operation, never a crash."""

from __future__ import annotations

from support import run_scenario

from tests.scenarios import errors


def test_error_is_a_real_exception_with_legacy_fields() -> None:
    r = run_scenario(errors.error_is_a_real_exception_with_legacy_fields)
    assert r["ok"] is True
    assert (r["op"], r["obj"], r["code"]) == ("call_answer", None, 70013)
    assert r["msg"] and r["text"] == f"Object: None, operation=call_answer, error={r['msg']}"
    assert "Invalid value or argument" in r["strerror"]


def test_life_cycle_misuse() -> None:
    r = run_scenario(errors.life_cycle_misuse)
    for key in ("second_lib", "before_init", "start_before_init", "init_twice",
                "after_destroy", "acc_after_destroy", "tp_after_destroy", "call_after_destroy"):
        assert r[key] and r[key][0] == "Error", key
    assert r["second_lib"][1] == "__init()__"  # the legacy module's operation names
    assert "destroyed" in r["after_destroy"][3] and r["after_destroy"][1] == "create_transport()"
    assert r["acc_after_destroy"][1:3] == ["info()", -1]
    assert r["bad_cfg_type"][0] == "TypeError"
    assert r["too_many_calls"][0] == "ValueError"
    assert r["events_after_destroy"] == 0 and r["instance_after"] is True
    assert r["second_life"] == 0


def test_bad_arguments() -> None:
    r = run_scenario(errors.bad_arguments)
    assert r["verify_bad"] != 0 and r["verify_good"] == 0
    for key, kind in [("uri_invalid", "Error"), ("uri_empty", "Error"), ("uri_type", "TypeError"),
                      ("uri_nul", "Error"), ("cb_type", "TypeError"), ("hdr_type", "TypeError"),
                      ("hdr_name", "ValueError"), ("hdr_crlf", "ValueError"),
                      ("tp_type", "TypeError"), ("tp_unknown", "Error"), ("tp_port", "ValueError"),
                      ("tp_addr", "Error"), ("acc_cfg", "TypeError"), ("modify_unknown", "Error"),
                      ("closed_tp", "Error"), ("tp_enable", "Error"),
                      ("dtmf_early_bad", "ValueError"), ("answer_type", "TypeError"),
                      ("answer_range", "ValueError"), ("method_bad", "ValueError"),
                      ("acc_deleted_call", "Error"), ("acc_deleted_info", "Error"),
                      ("acc_deleted_delete", "Error")]:
        assert r[key] and r[key][0] == kind, (key, r[key])
    assert r["uri_invalid"][1] == "make_call()" and "Invalid Request URI" in r["uri_invalid"][3]
    for name in ("answer", "hangup", "hold", "unhold", "reinvite", "update", "dtmf", "xfer",
                 "request"):
        # PJSIP_ESESSIONTERMINATED, as pjsua answers the legacy module
        assert r["dead_" + name][0] == "Error" and r["dead_" + name][2] == 171140, name
    assert r["dead_hangup"][1] == "hangup()"
    assert r["dead_info"][:3] == ["Error", "info", -1] and r["dead_valid"] == 0
    assert r["acc_valid"] == 0 and "Invalid account" in r["acc_deleted_info"][3]
    assert r["still_works"] is True
    for name in ("stranger_hangup", "stranger_answer"):
        assert r[name][0] == "Error" and r[name][2] == 171140, (name, r[name])
    assert r["live_after_stranger"] == 1


def test_api_from_any_thread_and_garbage_from_many_threads() -> None:
    r = run_scenario(errors.api_from_any_thread_and_garbage_from_many_threads, timeout=120)
    assert r["alive"] is False
    assert r["confirmed"] >= 100, r
