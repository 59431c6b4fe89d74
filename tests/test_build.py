"""The native build's checks: version floor, missing system libraries, build flags."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("PJSUA_FFI_SKIP_FFIBUILDER", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import build_pjsip  # noqa: E402


def _tree(tmp_path: Path, major: int, minor: int) -> Path:
    (tmp_path / "version.mak").write_text(
        f"export PJ_VERSION_MAJOR  := {major}\nexport PJ_VERSION_MINOR  := {minor}\n"
        "export PJ_VERSION_REV    :=\n")
    return tmp_path


def test_old_pjproject_is_refused(tmp_path: Path) -> None:
    with pytest.raises(build_pjsip.BuildError, match=r"2\.13\.0 is too old.*2\.14 or newer"):
        build_pjsip.check_version(_tree(tmp_path, 2, 13))
    assert build_pjsip.check_version(_tree(tmp_path, 2, 17)) == (2, 17, 0)


def test_missing_system_library_names_the_package() -> None:
    with pytest.raises(build_pjsip.BuildError, match="apt-get install -y libnothing-dev"):
        build_pjsip.check_system_deps({"no/such/header_xyz.h": "libnothing-dev"})
    build_pjsip.check_system_deps({"stdio.h": "libc6-dev"})  # present: no error


def test_flags_come_from_pjprojects_build_output() -> None:
    if not (build_pjsip.VENDOR / "build.mak").exists():
        pytest.skip("pjproject is not built here")
    mv = build_pjsip.make_vars()
    assert "-DPJ_AUTOCONF=1" in mv["PJ_CFLAGS"]
    assert all(Path(f).exists() for f in mv["PJ_LIB_FILES"].split())
    assert "-lsrtp2" in mv["PJ_LDLIBS"] and "-lopus" in mv["PJ_LDLIBS"]
    site = build_pjsip.VENDOR / "pjlib" / "include" / "pj" / "config_site.h"
    assert "PJSUA_MAX_CALLS              1024" in site.read_text()


def test_compiled_module_matches_the_headers() -> None:
    from pjsua_ffi._pjsua import lib

    assert lib.PJFFI_VERSION_NUM >= (2 << 24) | (14 << 16)
    assert lib.PJFFI_MAX_CALLS == 1024
    assert lib.PJFFI_HAS_TLS == 1


def test_race_fixes_are_applied_once_and_only_where_the_code_matches(tmp_path: Path) -> None:
    conf = tmp_path / "pjmedia" / "src" / "pjmedia" / "conference.c"
    conf.parent.mkdir(parents=True)
    before = ("        if (found) {\n"
              "            /* Release mutex to avoid deadlock */\n"
              "            pj_mutex_unlock(conf->mutex);\n")
    conf.write_text(before)
    udp = conf.parent / "transport_udp.c"
    udp.write_text("    /* Reset */\n"
                   "    pj_bzero(&udp->rtp_src_addr, sizeof(udp->rtp_src_addr));\n"
                   "    pj_bzero(&udp->rtcp_src_addr, sizeof(udp->rtcp_src_addr));\n"
                   "    udp->rtcp_src_cnt = 0;\n")
    assert sorted(build_pjsip.apply_source_fixes(tmp_path)) == [
        "pjmedia/src/pjmedia/conference.c", "pjmedia/src/pjmedia/transport_udp.c"]
    lines = conf.read_text().splitlines()
    assert lines[1].startswith("            conf_port->removing = PJ_TRUE;")
    assert lines[2:] == before.splitlines()[1:]
    fixed = udp.read_text()
    assert "pj_bzero(&udp->rtp_src_addr" not in fixed
    assert "if (pj_sockaddr_has_addr(&udp->rtcp_src_addr))" in fixed
    assert fixed.endswith("    udp->rtcp_src_cnt = 0;\n")
    assert build_pjsip.apply_source_fixes(tmp_path) == []  # idempotent
    conf.write_text("changed upstream\n")  # a release that reworked the function
    assert build_pjsip.apply_source_fixes(tmp_path) == []
    assert conf.read_text() == "changed upstream\n"
    vendor = build_pjsip.VENDOR / "pjmedia" / "src" / "pjmedia"
    if (vendor / "conference.c").exists():  # the tree we built from has both fixes
        assert "pjsua-ffi fix conf-removing" in (vendor / "conference.c").read_text()
        assert "pjsua-ffi fix udp-src-addr" in (vendor / "transport_udp.c").read_text()
    pjsua = build_pjsip.VENDOR / "pjsip" / "src" / "pjsua-lib"
    if (pjsua / "pjsua_core.c").exists():  # and both lock-order fixes
        assert "pjsua-ffi fix replaces-lock-order" in (pjsua / "pjsua_core.c").read_text()
        assert "pjsua-ffi fix pres-lock-order" in (pjsua / "pjsua_pres.c").read_text()


def test_a_fix_of_several_edits_is_applied_whole_or_not_at_all(tmp_path: Path) -> None:
    pres = tmp_path / "pjsip" / "src" / "pjsua-lib" / "pjsua_pres.c"
    pres.parent.mkdir(parents=True)
    text = ("/* Terminate server subscription for the account */\n"
            "void pjsua_pres_delete_acc(int acc_id, unsigned flags)\n{\n"
            "    while (1) {\n"
            "        pjsip_tx_data *tdata;\n\n"
            "        next = uapres->next;\n\n"
            "        pjsip_pres_get_status(uapres->sub, &pres_status);\n"
            "        uapres = next;\n"
            "    }\n\n"
            "    /* Clear server presence subscription list because ...\n")
    pres.write_text(text.replace("uapres = next;", "uapres = uapres->next;"))
    assert build_pjsip.apply_source_fixes(tmp_path) == []  # the last edit finds nothing
    assert "pjsua-ffi" not in pres.read_text()
    pres.write_text(text)
    assert build_pjsip.apply_source_fixes(tmp_path) == ["pjsip/src/pjsua-lib/pjsua_pres.c"]
    fixed = pres.read_text()
    assert fixed.count("pjsua-ffi fix pres-lock-order") == 2
    assert "static void srv_pres_end_later(" in fixed
    assert "        pjsip_dlg_dec_lock(dlg);\n        uapres = next;\n    }" in fixed
