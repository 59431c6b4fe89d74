"""Native build of pjsua-ffi: fetch pjproject, build it statically, define the cffi module.

Run ``python build_pjsip.py`` to build pjproject and compile ``pjsua_ffi._pjsua`` in
place (what the test suite uses); ``pip install .`` reaches the same code through the
``cffi_modules`` entry in ``pyproject.toml``. ``python build_pjsip.py --native-only``
stops after pjproject (the CMake entry point calls that).

Where pjproject comes from, in order:

1. ``PJPROJECT_SRC``: a pjproject source tree or tarball;
2. a tarball cached in ``$PJSUA_FFI_CACHE`` (default ``~/.cache/pjsua-ffi``);
3. Debian's ``asterisk`` source package (suite sid), whose ``orig-Xpjproject`` component
   tarball is pjproject; fetched with ``apt-get source`` and a private apt configuration,
   so the system's package lists are left alone.

The tree is unpacked into the git-ignored ``vendor/pjproject/``. A stamp file records the
source, options and ``config_site.h`` that the built libraries came from, so an unchanged
tree costs nothing on the next build.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENDOR = ROOT / "vendor" / "pjproject"
NATIVE = ROOT / "native"
CDEF_DIR = ROOT / "pjsua_ffi" / "_cdef"
CSRC_DIR = ROOT / "pjsua_ffi" / "_csrc"
CACHE = Path(os.environ.get("PJSUA_FFI_CACHE", Path.home() / ".cache" / "pjsua-ffi"))
DEBIAN_MIRROR = os.environ.get("PJSUA_FFI_DEBIAN_MIRROR", "http://deb.debian.org/debian")
MIN_VERSION = (2, 14)
CFLAGS = "-O2 -fPIC -DNDEBUG -g0"

# The cdef headers, concatenated in this order: later ones use types from earlier ones.
# Each area's header declares pjsua's API of that area, then our helpers of that area.
CDEF_ORDER = [
    "base.h",
    "core.h",
    "transport.h",
    "account.h",
    "call.h",
    "buddy.h",
    "media.h",
    "events.h",
    "secure.h",
    "gate.h",
]

# Our C sources: one translation unit that includes pjffi.h (the types and prototypes the
# files share), then each of these in this order (see pjffi.h for what each holds).
CSRC_HEADER = "pjffi.h"
CSRC_ORDER = [
    "queue.c",
    "poller.c",
    "callbacks.c",
    "call.c",
    "presence.c",
    "media_port.c",
    "media.c",
    "diag.c",
    "features.c",
    "secure.c",
    "loop.c",
    "gate.c",
]

# Headers that configure looks for, and the Debian package that provides each one.
SYSTEM_DEPS = {
    "srtp2/srtp.h": "libsrtp2-dev",
    "speex/speex.h": "libspeex-dev",
    "speex/speex_echo.h": "libspeexdsp-dev",
    "gsm/gsm.h": "libgsm1-dev",
    "alsa/asoundlib.h": "libasound2-dev",
    "portaudio.h": "portaudio19-dev",
    "openssl/ssl.h": "libssl-dev",
    "opus/opus.h": "libopus-dev",
    "uuid/uuid.h": "uuid-dev",
}


class BuildError(RuntimeError):
    """A build step failed; the message says what to do."""


def log(msg: str) -> None:
    print(f"[build_pjsip] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None,
        quiet_log: Path | None = None) -> None:
    """Run a command; on failure show the tail of its output."""
    log(" ".join(cmd) + (f"   (in {cwd})" if cwd else ""))
    if quiet_log is None:
        subprocess.run(cmd, cwd=cwd, env=env, check=True)
        return
    with open(quiet_log, "ab") as out:
        rc = subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        tail = quiet_log.read_text(errors="replace").splitlines()[-40:]
        raise BuildError(f"{cmd[0]} failed (exit {rc}); last lines of {quiet_log}:\n"
                         + "\n".join(tail))


# --------------------------------------------------------------------------- source


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _apt_source(package: str, release: str, pattern: str) -> Path:
    """Download a Debian source package with a private apt configuration; move the file
    matching ``pattern`` into the cache and return it (the others are dropped)."""
    dest = CACHE / "src"
    if shutil.which("apt-get") is None:
        raise BuildError(f"apt-get not found: cannot fetch Debian's {package} source")
    apt = dest / f"apt-{release}" if release != "sid" else dest / "apt"
    (apt / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    sources = apt / "sources.list"
    sources.write_text(f"deb-src {DEBIAN_MIRROR} {release} main\n")
    opts = [
        "-o", f"Dir::Etc::sourcelist={sources}",
        "-o", "Dir::Etc::sourceparts=/nonexistent",
        "-o", f"Dir::State::Lists={apt / 'lists'}",
        "-o", "APT::Sandbox::User=root",
    ]
    logfile = dest / "fetch.log"
    run(["apt-get", *opts, "update"], quiet_log=logfile)
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        run(["apt-get", *opts, "source", "--download-only", package], cwd=Path(tmp),
            quiet_log=logfile)
        got = sorted(Path(tmp).glob(pattern))
        if not got:
            raise BuildError(f"Debian's {package} source package has no {pattern}")
        final = dest / got[-1].name
        shutil.move(str(got[-1]), final)
    return final


def fetch_debian_tarball() -> Path:
    """Download asterisk's pjproject component tarball from Debian sid into the cache."""
    found = sorted((CACHE / "src").glob("asterisk_*.orig-Xpjproject.tar.*"))
    if found:
        return found[-1]
    if shutil.which("apt-get") is None:
        raise BuildError("apt-get not found: set PJPROJECT_SRC to a pjproject tree or tarball")
    try:
        return _apt_source("asterisk", "sid", "asterisk_*.orig-Xpjproject.tar.*")
    except BuildError:
        raise BuildError("Debian's asterisk source package has no orig-Xpjproject tarball; "
                         "set PJPROJECT_SRC to a pjproject tree or tarball") from None


def build_static_srtp() -> Path:
    """A folder holding libsrtp2.a built with OpenSSL's crypto (for wheels); returns it.

    Debian's libsrtp2 does its crypto through NSS, and NSS loads its crypto module
    (softokn) from the system's library folders at run time, which a wheel cannot bring
    along: on a system without NSS, SRTP (and so pjsua_init) fails. The same libsrtp2
    release as the installed headers (so pjmedia's objects, compiled against them, fit),
    built with OpenSSL, needs nothing beyond the libcrypto the extension links anyway.
    """
    version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libsrtp2-dev"],
                             capture_output=True, text=True).stdout.strip()
    if not version:
        raise BuildError("libsrtp2-dev is not installed: apt-get install -y libsrtp2-dev")
    upstream = version.split(":")[-1].split("-")[0]
    out = CACHE / f"srtp-static-{upstream}"
    if (out / "libsrtp2.a").exists():
        return out
    release = "stable"
    osrel = Path("/etc/os-release")
    if osrel.exists():
        m = re.search(r"^VERSION_CODENAME=(\w+)", osrel.read_text(), re.M)
        release = m.group(1) if m else release
    found = sorted((CACHE / "src").glob(f"libsrtp2_{upstream}.orig.tar.*"))
    tarball = found[-1] if found else _apt_source(f"libsrtp2={version}", release,
                                                 f"libsrtp2_{upstream}.orig.tar.*")
    log(f"building libsrtp2 {upstream} with OpenSSL (static, for the wheel)")
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(tarball) as tf:
            if hasattr(tarfile, "data_filter"):
                tf.extractall(tmp, filter="tar")
            else:
                tf.extractall(tmp)
        tree = next(p for p in Path(tmp).iterdir() if p.is_dir())
        logfile = CACHE / "src" / "srtp-build.log"
        env = dict(os.environ, CFLAGS=CFLAGS)
        run(["./configure", "--enable-openssl"], cwd=tree, env=env, quiet_log=logfile)
        run(["make", f"-j{os.cpu_count() or 2}", "libsrtp2.a"], cwd=tree, env=env,
            quiet_log=logfile)
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tree / "libsrtp2.a", out / "libsrtp2.a")
    return out


def locate_source() -> tuple[Path, str]:
    """Return the pjproject source (tree or tarball) and a string identifying it."""
    env = os.environ.get("PJPROJECT_SRC")
    if env:
        src = Path(env).expanduser().resolve()
        if not src.exists():
            raise BuildError(f"PJPROJECT_SRC={env} does not exist")
        if src.is_dir():
            if not (src / "pjsip" / "include" / "pjsua-lib" / "pjsua.h").exists():
                raise BuildError(f"PJPROJECT_SRC={env} is not a pjproject tree (no pjsip/include)")
            return src, f"dir:{src}"
        return src, f"tar:{_sha256(src)}"
    tarball = fetch_debian_tarball()
    return tarball, f"tar:{_sha256(tarball)}"


def unpack(src: Path, ident: str) -> None:
    """Fill vendor/pjproject from a tree or tarball unless it already holds that source."""
    marker = VENDOR / ".pjsua-ffi-source"
    if marker.exists() and marker.read_text() == ident:
        return
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    VENDOR.parent.mkdir(parents=True, exist_ok=True)
    log(f"unpacking {src} into {VENDOR}")
    if src.is_dir():
        shutil.copytree(src, VENDOR, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    else:
        with tempfile.TemporaryDirectory(dir=VENDOR.parent) as tmp:
            with tarfile.open(src) as tf:
                if hasattr(tarfile, "data_filter"):
                    tf.extractall(tmp, filter="tar")
                else:
                    tf.extractall(tmp)
            tops = [p for p in Path(tmp).iterdir() if p.is_dir()]
            top = tops[0] if len(tops) == 1 else Path(tmp)
            shutil.move(str(top), VENDOR)
    marker.write_text(ident)


def pjproject_version(tree: Path = VENDOR) -> tuple[int, int, int]:
    text = (tree / "version.mak").read_text()

    def field(name: str) -> int:
        m = re.search(rf"PJ_VERSION_{name}\s*:=\s*(\d*)", text)
        return int(m.group(1)) if m and m.group(1) else 0

    return field("MAJOR"), field("MINOR"), field("REV")


def check_version(tree: Path) -> tuple[int, int, int]:
    """The tree's pjproject version; BuildError if it is older than we support."""
    ver = pjproject_version(tree)
    if ver[:2] < MIN_VERSION:
        raise BuildError(f"pjproject {'.'.join(map(str, ver))} is too old: pjsua-ffi needs "
                         f"{MIN_VERSION[0]}.{MIN_VERSION[1]} or newer")
    return ver


# --------------------------------------------------------------------------- build


def configure_options() -> list[str]:
    lines = (NATIVE / "configure.options").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def check_system_deps(deps: dict[str, str] | None = None) -> None:
    """Fail early, naming the Debian packages to install, when a header is missing."""
    missing = []
    for header, package in (SYSTEM_DEPS if deps is None else deps).items():
        probe = subprocess.run(
            ["cc", "-E", "-x", "c", "-", "-o", os.devnull],
            input=f"#include <{header}>\n", text=True, capture_output=True,
        )
        if probe.returncode != 0:
            missing.append(package)
    if missing:
        raise BuildError(
            "missing system libraries for pjproject; install them with:\n"
            f"    apt-get install -y {' '.join(sorted(set(missing)))}"
        )


# Race fixes we apply to pjproject's sources before building: (tag, file, pattern,
# replacement, why). The replacement is ours; "{indent}" is the matched code's
# indentation and "{orig}" the matched code. A fix that edits several places gives a
# tuple of patterns and one of replacements, applied in order: all of them or none. A
# tree where a pattern is not found (a release that changed the code) is left as it is.
# Each names the upstream change that fixes the same in pjproject releases after 2.17,
# or says that upstream has none yet; those are written to be sent upstream as they are.
_CONF_FIX = ("{indent}conf_port->removing = PJ_TRUE;  /* pjsua-ffi fix conf-removing */\n"
             "{orig}")
# Two lock-order fixes in pjsua (no upstream change yet; checked against pjproject's
# main of 2026-08). pjsua's rule is: a dialog's lock first, then PJSUA_LOCK; code that
# holds PJSUA_LOCK may only try a dialog's lock (and let go and retry, as acquire_call()
# does). Both paths below waited for a dialog's lock with PJSUA_LOCK held.
_REPLACES_LOCK = (
    "{indent}/* pjsua-ffi fix replaces-lock-order: lock the dialog that an INVITE's\n"
    "{indent} * Replaces header names before PJSUA_LOCK, and keep it until\n"
    "{indent} * PJSUA_UNLOCK. pjsua_call_on_incoming() locks that dialog to verify the\n"
    "{indent} * header, and with PJSUA_LOCK held it deadlocked against a thread that\n"
    "{indent} * held the dialog and waited for PJSUA_LOCK (hanging up that call, with\n"
    "{indent} * on_call_state() calling pjsua_call_get_info()). Held to the end, the\n"
    "{indent} * lock also keeps the replaced dialog alive while the call replaces it.\n"
    "{indent} */\n"
    "{indent}if (rdata->msg_info.msg->line.req.method.id == PJSIP_INVITE_METHOD) {{\n"
    "{indent}    const pj_str_t STR_REPLACES = {{ \"Replaces\", 8 }};\n"
    "{indent}    pjsip_replaces_hdr *rep_hdr = (pjsip_replaces_hdr*)\n"
    "{indent}        pjsip_msg_find_hdr_by_name(rdata->msg_info.msg, &STR_REPLACES, NULL);\n"
    "{indent}    if (rep_hdr) {{\n"
    "{indent}        replaced_dlg = pjsip_ua_find_dialog(&rep_hdr->call_id,\n"
    "{indent}                                            &rep_hdr->to_tag,\n"
    "{indent}                                            &rep_hdr->from_tag, PJ_TRUE);\n"
    "{indent}    }}\n"
    "{indent}}}\n\n"
    "{orig}")
_PRES_END_LATER = (
    "/* pjsua-ffi fix pres-lock-order: pjsua_pres_delete_acc() runs with PJSUA_LOCK held,\n"
    " * so it must not wait for a subscription's dialog lock: a thread handling a request\n"
    " * in that dialog holds it and waits for PJSUA_LOCK in pres_evsub_on_srv_state().\n"
    " * A subscription whose dialog is busy leaves the account at once (its state\n"
    " * callback ignores it from then on) and is ended from a timer, which takes the\n"
    " * dialog lock with no other lock held.\n"
    " */\n"
    "static void srv_pres_end(pjsua_srv_pres *uapres, pj_bool_t notify)\n"
    "{{\n"
    "    pjsip_evsub *sub = uapres->sub;\n"
    "    pj_str_t reason = {{ \"noresource\", 10 }};\n"
    "    pjsip_tx_data *tdata;\n"
    "\n"
    "    pjsip_dlg_inc_lock(uapres->dlg);\n"
    "    if (pjsip_evsub_get_state(sub) != PJSIP_EVSUB_STATE_TERMINATED) {{\n"
    "        if (!notify) {{\n"
    "            pjsip_pres_terminate(sub, PJ_FALSE);\n"
    "        }} else if (pjsip_pres_notify(sub, PJSIP_EVSUB_STATE_TERMINATED, NULL,\n"
    "                                     &reason, &tdata) == PJ_SUCCESS)\n"
    "        {{\n"
    "            pjsip_pres_send_request(sub, tdata);\n"
    "        }}\n"
    "    }}\n"
    "    pjsip_dlg_dec_lock(uapres->dlg);\n"
    "    pjsip_evsub_dec_ref(sub);\n"
    "}}\n"
    "\n"
    "static void srv_pres_end_notify(void *uapres)\n"
    "{{\n"
    "    srv_pres_end((pjsua_srv_pres*)uapres, PJ_TRUE);\n"
    "}}\n"
    "\n"
    "static void srv_pres_end_quiet(void *uapres)\n"
    "{{\n"
    "    srv_pres_end((pjsua_srv_pres*)uapres, PJ_FALSE);\n"
    "}}\n"
    "\n"
    "/* Called with PJSUA_LOCK held. The reference keeps the subscription and its dialog\n"
    " * until the timer has run. */\n"
    "static void srv_pres_end_later(pjsua_srv_pres *uapres, unsigned flags)\n"
    "{{\n"
    "    PJ_LOG(4,(THIS_FILE, \"Server subscription to %s: dialog busy, ending it \"\n"
    "                         \"from a timer\", uapres->remote));\n"
    "    pj_list_erase(uapres);\n"
    "    pjsip_evsub_set_mod_data(uapres->sub, pjsua_var.mod.id, NULL);\n"
    "    pjsip_evsub_add_ref(uapres->sub);\n"
    "    if (pjsua_schedule_timer2((flags & PJSUA_DESTROY_NO_TX_MSG) ?\n"
    "                              &srv_pres_end_quiet : &srv_pres_end_notify,\n"
    "                              uapres, 0) != PJ_SUCCESS)\n"
    "    {{\n"
    "        pjsip_evsub_dec_ref(uapres->sub);\n"
    "    }}\n"
    "}}\n"
    "\n"
    "{orig}")
_PRES_TRY_LOCK = (
    "{indent}pjsip_dialog *dlg;\n"
    "{indent}pjsip_tx_data *tdata;\n"
    "\n"
    "{indent}next = uapres->next;\n"
    "\n"
    "{indent}/* pjsua-ffi fix pres-lock-order: only try the dialog's lock here. */\n"
    "{indent}dlg = uapres->dlg;\n"
    "{indent}if (pjsip_dlg_try_inc_lock(dlg) != PJ_SUCCESS) {{\n"
    "{indent}    srv_pres_end_later(uapres, flags);\n"
    "{indent}    uapres = next;\n"
    "{indent}    continue;\n"
    "{indent}}}\n"
    "\n"
    "{indent}pjsip_pres_get_status(uapres->sub, &pres_status);")

SOURCE_FIXES = [
    *(("conf-removing", path,
       r"(?m)^(?P<indent>[ \t]*)/\* Release mutex to avoid deadlock \*/\n"
       r"[ \t]*pj_mutex_unlock\(conf->mutex\);",
       _CONF_FIX,
       "pjmedia_conf_remove_port() tears down a port that the clock has not added yet "
       "after releasing the bridge lock, without marking it as being removed: a "
       "conf_connect() in that window queued a connection to the dying slot, and the "
       "clock thread crashed on it later (pjproject PR #5057).")
      for path in ("pjmedia/src/pjmedia/conference.c", "pjmedia/src/pjmedia/conf_thread.c")),
    ("udp-src-addr", "pjmedia/src/pjmedia/transport_udp.c",
     r"(?m)^(?P<indent>[ \t]*)pj_bzero\(&udp->rtp_src_addr, sizeof\(udp->rtp_src_addr\)\);\n"
     r"[ \t]*pj_bzero\(&udp->rtcp_src_addr, sizeof\(udp->rtcp_src_addr\)\);",
     "{indent}/* pjsua-ffi fix udp-src-addr: the media thread may be reading these now.\n"
     "{indent} * The RTP one is overwritten by the next packet; the RTCP one only loses\n"
     "{indent} * its address, so its family never reads as unknown. */\n"
     "{indent}if (pj_sockaddr_has_addr(&udp->rtcp_src_addr))\n"
     "{indent}    pj_bzero(pj_sockaddr_get_addr(&udp->rtcp_src_addr),\n"
     "{indent}             pj_sockaddr_get_addr_len(&udp->rtcp_src_addr));",
     "transport_attach2() zeroed the source addresses that the media thread's pending "
     "reads fill and compare: a packet received while a stream was (re)attached saw "
     "the family flip to 0 mid-comparison, and pj_sockaddr_cmp() read through NULL "
     "(a segfault in the RTCP path; an 'Assert failed: sa_family' line in the RTP "
     "path) under call churn (pjproject PR #5001)."),
    ("replaces-lock-order", "pjsip/src/pjsua-lib/pjsua_core.c",
     (r"(?m)^(?P<indent>[ \t]*)pj_bool_t processed = PJ_FALSE;\n(?=\n#if PJSUA_DETECT_MERGED)",
      r"(?m)^(?P<indent>[ \t]*)PJSUA_LOCK\(\);\n(?=\n[ \t]*if \(rdata->msg_info\.msg->line"
      r"\.req\.method\.id == PJSIP_INVITE_METHOD\) \{\n\n[ \t]*processed = "
      r"pjsua_call_on_incoming\(rdata\);)",
      r"(?m)(?<=processed = pjsua_call_on_incoming\(rdata\);\n    \}\n\n)"
      r"^(?P<indent>[ \t]*)PJSUA_UNLOCK\(\);\n"),
     ("{orig}{indent}pjsip_dialog *replaced_dlg = NULL;"
      "   /* pjsua-ffi fix replaces-lock-order */\n",
      _REPLACES_LOCK,
      "{orig}{indent}if (replaced_dlg)\n{indent}    pjsip_dlg_dec_lock(replaced_dlg);\n"),
     "mod_pjsua_on_rx_request() took PJSUA_LOCK, then pjsua_call_on_incoming() (verifying "
     "a Replaces header) the named dialog's lock: the reverse of pjsua's order. A thread "
     "hanging up that call held its dialog lock and waited for PJSUA_LOCK in "
     "pjsua_call_get_info() (called from on_call_state), and both waited for ever. The "
     "dialog is now locked first."),
    ("pres-lock-order", "pjsip/src/pjsua-lib/pjsua_pres.c",
     (r"(?m)^(?P<indent>)/\* Terminate server subscription for the account \*/\n"
      r"void pjsua_pres_delete_acc\(int acc_id, unsigned flags\)\n\{\n",
      r"(?m)^(?P<indent>[ \t]*)pjsip_tx_data \*tdata;\n\n[ \t]*next = uapres->next;\n\n"
      r"[ \t]*pjsip_pres_get_status\(uapres->sub, &pres_status\);",
      r"(?m)^(?P<indent>[ \t]*)uapres = next;\n"
      r"(?=[ \t]*\}\n\n[ \t]*/\* Clear server presence subscription list)"),
     (_PRES_END_LATER, _PRES_TRY_LOCK,
      "{indent}pjsip_dlg_dec_lock(dlg);\n{orig}"),
     "pjsua_acc_del() holds PJSUA_LOCK while pjsua_pres_delete_acc() sends each watcher "
     "a final NOTIFY, which waited for the subscription's dialog lock; a thread handling "
     "a request in that dialog (an un-SUBSCRIBE) held it and waited for PJSUA_LOCK in "
     "pres_evsub_on_srv_state(). A busy subscription is now ended from a timer instead."),
    ("tls-listen-status", "pjsip/src/pjsip/sip_transport_tls.c",
     r"(?m)^(?P<indent>[ \t]*)status = update_factory_addr\(listener, a_name\);",
     "{indent}/* pjsua-ffi fix tls-listen-status: a listener that could not bind or\n"
     "{indent} * listen is an error, not a transport that silently never accepts. */\n"
     "{indent}if (status != PJ_SUCCESS && status != PJ_EPENDING)\n"
     "{indent}    return status;\n"
     "{orig}",
     "pjsip_tls_transport_lis_start() overwrote the status of starting to accept with "
     "the next call's: a TLS transport on a port already in use was created without "
     "error and never accepted a connection."),
]


def apply_source_fixes(tree: Path = VENDOR) -> list[str]:
    """Apply :data:`SOURCE_FIXES` (idempotent); returns the files changed."""
    changed = []
    for tag, rel, patterns, replacements, _why in SOURCE_FIXES:
        path = tree / rel
        if not path.exists():
            continue
        text = path.read_text()
        if f"pjsua-ffi fix {tag}" in text:
            continue
        if isinstance(patterns, str):
            patterns, replacements = (patterns,), (replacements,)
        new = text
        for pattern, replacement in zip(patterns, replacements):
            new, n = re.subn(
                pattern,
                lambda m, r=replacement: r.format(indent=m.group("indent"), orig=m.group(0)),
                new, count=1)
            if not n:
                log(f"{rel}: the code that fix {tag!r} is for has changed; left as it is")
                break
        else:
            path.write_text(new)
            if rel not in changed:
                changed.append(rel)
    return changed


def patch_tree() -> None:
    """Adapt Debian's DFSG-stripped tree (its BDIMAD audio driver source was removed),
    apply our source fixes, and install our config_site.h."""
    mk = VENDOR / "pjmedia" / "build" / "Makefile"
    if not (VENDOR / "pjmedia" / "src" / "pjmedia-audiodev" / "bdimad_dev.c").exists():
        text = mk.read_text()
        if " bdimad_dev.o" in text:
            mk.write_text(text.replace(" bdimad_dev.o", ""))
    for rel in apply_source_fixes():
        log(f"source fixes applied to {rel}")
    shutil.copyfile(NATIVE / "config_site.h", VENDOR / "pjlib" / "include" / "pj" / "config_site.h")


def build_stamp() -> str:
    h = hashlib.sha256()
    h.update((VENDOR / ".pjsua-ffi-source").read_bytes())
    h.update((NATIVE / "configure.options").read_bytes())
    h.update((NATIVE / "config_site.h").read_bytes())
    h.update(CFLAGS.encode())
    h.update(repr([fix[:4] for fix in SOURCE_FIXES]).encode())
    return h.hexdigest()


def build_native() -> None:
    """Make sure vendor/pjproject holds built static libraries for the current settings."""
    src, ident = locate_source()
    unpack(src, ident)
    ver = check_version(VENDOR)
    stamp_file = VENDOR / ".pjsua-ffi-built"
    stamp = build_stamp()
    if stamp_file.exists() and stamp_file.read_text() == stamp and _lib_files_exist():
        log(f"pjproject {'.'.join(map(str, ver))} already built in {VENDOR}")
        return
    check_system_deps()
    patch_tree()
    logfile = VENDOR / "pjsua-ffi-build.log"
    logfile.write_text("")
    env = dict(os.environ, CFLAGS=CFLAGS)
    # Python's own CFLAGS/LDFLAGS must not leak into pjproject's configure.
    env.pop("LDFLAGS", None)
    env.pop("CPPFLAGS", None)
    run(["./configure", *configure_options()], cwd=VENDOR, env=env, quiet_log=logfile)
    check_configured()
    run(["make", "dep"], cwd=VENDOR, env=env, quiet_log=logfile)
    run(["make", f"-j{os.cpu_count() or 2}", "lib"], cwd=VENDOR, env=env, quiet_log=logfile)
    stamp_file.write_text(stamp)
    log("pjproject built")


def check_configured() -> None:
    """Features we rely on must have been detected by configure."""
    os_auto = (VENDOR / "pjlib" / "include" / "pj" / "compat" / "os_auto.h").read_text()
    if not re.search(r"#define PJ_HAS_SSL_SOCK\s+1", os_auto):
        raise BuildError("pjproject's configure did not find OpenSSL (TLS): "
                         "apt-get install -y libssl-dev")


def make_vars() -> dict[str, str]:
    """Read PJ_CFLAGS, PJ_LDFLAGS, PJ_LDLIBS and PJ_LIB_FILES from pjproject's build.mak."""
    names = ["PJ_CFLAGS", "PJ_LDFLAGS", "PJ_LDLIBS", "PJ_LIB_FILES"]
    with tempfile.NamedTemporaryFile("w", suffix=".mak", delete=False) as mk:
        mk.write(f"include {VENDOR}/build.mak\nprint:\n")
        for n in names:
            mk.write(f"\t@echo '{n}=$({n})'\n")
    try:
        out = subprocess.run(["make", "-s", "-f", mk.name, "print"], cwd=VENDOR,
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(mk.name)
    result = {}
    for line in out.splitlines():
        key, _, value = line.partition("=")
        if key in names:
            result[key] = value.strip()
    return result


def _lib_files_exist() -> bool:
    try:
        files = make_vars()["PJ_LIB_FILES"].split()
    except (subprocess.CalledProcessError, KeyError, FileNotFoundError):
        return False
    return bool(files) and all(Path(f).exists() for f in files)


# --------------------------------------------------------------------------- cffi


def cdef_text() -> str:
    return "\n".join((CDEF_DIR / name).read_text() for name in CDEF_ORDER)


def csrc_text() -> str:
    """The extension's C source: #include lines, so the compiler names each file."""
    return "\n".join(f'#include "{name}"' for name in [CSRC_HEADER, *CSRC_ORDER]) + "\n"


def make_ffibuilder():
    from cffi import FFI

    build_native()
    mv = make_vars()
    cflags = mv["PJ_CFLAGS"].split()
    include_dirs = [f[2:] for f in cflags if f.startswith("-I")]
    defines = [f for f in cflags if f.startswith("-D")]
    ldflags = mv["PJ_LDFLAGS"].split() + mv["PJ_LDLIBS"].split()
    if os.environ.get("PJSUA_FFI_STATIC_SRTP") == "1":
        # Found before the system's folders, the static library replaces libsrtp2.so.
        ldflags.insert(0, f"-L{build_static_srtp()}")

    ffi = FFI()
    ffi.cdef(cdef_text())
    ffi.set_source(
        "pjsua_ffi._pjsua",
        csrc_text(),
        include_dirs=include_dirs + [str(CSRC_DIR)],
        extra_compile_args=[*defines, "-DNDEBUG", "-O2", "-Wno-unused-function"],
        extra_link_args=ldflags,
    )
    return ffi


if os.environ.get("PJSUA_FFI_SKIP_FFIBUILDER") != "1" and __name__ != "__main__":
    ffibuilder = make_ffibuilder()


def main(argv: list[str]) -> int:
    try:
        if "--native-only" in argv:
            build_native()
            return 0
        ffi = make_ffibuilder()
        with tempfile.TemporaryDirectory() as tmp:
            so = ffi.compile(tmpdir=tmp, verbose="-v" in argv)
            target = ROOT / "pjsua_ffi" / Path(so).name
            # Replace, never overwrite in place: a running process has the old one mapped.
            tmp_target = target.with_name(target.name + ".tmp")
            shutil.copyfile(so, tmp_target)
            os.replace(tmp_target, target)
            log(f"built {target.relative_to(ROOT)}")
    except BuildError as exc:
        log(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
