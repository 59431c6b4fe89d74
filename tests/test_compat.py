"""`import pjsua` keeps legacy code working: names, defaults, and a legacy-style program."""

from __future__ import annotations

import json
from pathlib import Path

from support import run_scenario

from tests.scenarios import compat

# The inventory of the legacy API lives beside the repository (../shared).
_INVENTORY = Path(__file__).resolve().parents[2] / "shared" / "legacy_api.json"
LEGACY = json.loads(_INVENTORY.read_text()) if _INVENTORY.exists() else None


def _same_default(ours: object, legacy: object) -> bool:
    if isinstance(legacy, str) and hasattr(ours, "name") and "." in legacy:
        return f"{type(ours).__name__}.{ours.name}" == legacy  # an enum member
    return ours == legacy


def test_legacy_names_and_defaults() -> None:
    import inspect

    import pjsua
    import pjsua_ffi

    assert pjsua.Lib is pjsua_ffi.Lib and pjsua.Error is pjsua_ffi.Error
    assert pjsua.CallState.CONFIRMED == 5 and pjsua.TransportType.TCP_IPV6 == 130
    assert pjsua.UAConfig().user_agent == "pjsip python" and pjsua.UAConfig().max_calls == 4
    assert pjsua.MediaConfig().clock_rate == 16000 and pjsua.LogConfig().level == 5
    acc = pjsua.AccountConfig("example.org", "alice", "pw", "Alice",
                              registrar="sip:example.org")
    assert acc.id == "Alice <sip:alice@example.org>" and acc.reg_uri == "sip:example.org"
    assert acc.proxy == ["sip:example.org;lr"] and acc.auth_cred[0].username == "alice"
    uri = pjsua.SIPUri('"Bob" <sip:bob@127.0.0.1:5070;transport=tcp>')
    assert (uri.scheme, uri.user, uri.host, uri.port, uri.transport) == \
        ("sip", "bob", "127.0.0.1", 5070, "tcp")
    assert uri.encode() == "sip:bob@127.0.0.1:5070;transport=tcp"
    if LEGACY is None:
        return
    # Every legacy method exists with the same parameter names and defaults.
    missing = []
    for cls_name, spec in LEGACY["classes"].items():
        cls = getattr(pjsua, cls_name, None)
        if cls is None:
            missing.append(cls_name)
            continue
        for meth, mspec in spec.get("methods", {}).items():
            fn = getattr(cls, meth, None)
            if fn is None:
                missing.append(f"{cls_name}.{meth}")
                continue
            if meth == "__init__" and cls_name in ("Lib",):
                continue
            params = [p["name"] for p in mspec["params"] if p["name"] != "self"]
            sig = inspect.signature(fn)
            got = [n for n in sig.parameters if n != "self"]
            assert got[: len(params)] == params, (cls_name, meth, got, params)
            for p in mspec["params"]:
                if "default" in p and isinstance(p["default"], (int, str, bool, type(None))):
                    d = sig.parameters[p["name"]].default
                    assert _same_default(d, p["default"]), (cls_name, meth, p["name"], d)
    assert missing == []


def test_a_legacy_style_program_runs_unchanged() -> None:
    r = run_scenario(compat.a_legacy_style_program_runs_unchanged)
    assert "STATES" in r["_stdout"]
    assert "CONFIRMED" in r["_stdout"] and "DISCONNECTED" in r["_stdout"]
