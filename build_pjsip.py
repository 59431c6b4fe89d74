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
CDEF_ORDER = [
    "base.h",
    "core.h",
    "transport.h",
    "account.h",
    "call.h",
    "buddy.h",
    "media.h",
    "helpers.h",
    "callbacks.h",
    "presence.h",
    "media_port.h",
    "gate.h",
]

# Our C sources, compiled into the extension in this order after pjsua.h.
CSRC_ORDER = [
    "helpers.c",
    "presence.c",
    "media_port.c",
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


def fetch_debian_tarball() -> Path:
    """Download asterisk's pjproject component tarball from Debian sid into the cache."""
    dest = CACHE / "src"
    found = sorted(dest.glob("asterisk_*.orig-Xpjproject.tar.*"))
    if found:
        return found[-1]
    if shutil.which("apt-get") is None:
        raise BuildError("apt-get not found: set PJPROJECT_SRC to a pjproject tree or tarball")
    apt = dest / "apt"
    (apt / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    sources = apt / "sources.list"
    sources.write_text(f"deb-src {DEBIAN_MIRROR} sid main\n")
    opts = [
        "-o", f"Dir::Etc::sourcelist={sources}",
        "-o", "Dir::Etc::sourceparts=/nonexistent",
        "-o", f"Dir::State::Lists={apt / 'lists'}",
        "-o", "APT::Sandbox::User=root",
    ]
    logfile = dest / "fetch.log"
    run(["apt-get", *opts, "update"], quiet_log=logfile)
    # A scratch folder: the source package brings several other tarballs we drop.
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        run(["apt-get", *opts, "source", "--download-only", "asterisk"], cwd=Path(tmp),
            quiet_log=logfile)
        got = sorted(Path(tmp).glob("asterisk_*.orig-Xpjproject.tar.*"))
        if not got:
            raise BuildError("Debian's asterisk source package has no orig-Xpjproject tarball; "
                             "set PJPROJECT_SRC to a pjproject tree or tarball")
        final = dest / got[-1].name
        shutil.move(str(got[-1]), final)
    return final


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
# indentation and "{orig}" the matched code. A tree where the pattern is not found (a
# release that changed the code) is left as it is. Each names the upstream change that
# fixes the same in pjproject releases after 2.17.
_CONF_FIX = ("{indent}conf_port->removing = PJ_TRUE;  /* pjsua-ffi fix conf-removing */\n"
             "{orig}")
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
]


def apply_source_fixes(tree: Path = VENDOR) -> list[str]:
    """Apply :data:`SOURCE_FIXES` (idempotent); returns the files changed."""
    changed = []
    for tag, rel, pattern, replacement, _why in SOURCE_FIXES:
        path = tree / rel
        if not path.exists():
            continue
        text = path.read_text()
        if f"pjsua-ffi fix {tag}" in text:
            continue
        new, n = re.subn(
            pattern,
            lambda m, r=replacement: r.format(indent=m.group("indent"), orig=m.group(0)),
            text, count=1)
        if n:
            path.write_text(new)
            changed.append(rel)
        else:
            log(f"{rel}: the code that fix {tag!r} is for has changed; left as it is")
    return changed


def patch_tree() -> None:
    """Adapt Debian's DFSG-stripped tree (its BDIMAD audio driver source was removed),
    apply our race fixes, and install our config_site.h."""
    mk = VENDOR / "pjmedia" / "build" / "Makefile"
    if not (VENDOR / "pjmedia" / "src" / "pjmedia-audiodev" / "bdimad_dev.c").exists():
        text = mk.read_text()
        if " bdimad_dev.o" in text:
            mk.write_text(text.replace(" bdimad_dev.o", ""))
    for rel in apply_source_fixes():
        log(f"race fix applied to {rel}")
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


def make_ffibuilder():
    from cffi import FFI

    build_native()
    mv = make_vars()
    cflags = mv["PJ_CFLAGS"].split()
    include_dirs = [f[2:] for f in cflags if f.startswith("-I")]
    defines = [f for f in cflags if f.startswith("-D")]
    ldflags = mv["PJ_LDFLAGS"].split() + mv["PJ_LDLIBS"].split()

    ffi = FFI()
    ffi.cdef(cdef_text())
    ffi.set_source(
        "pjsua_ffi._pjsua",
        "\n".join((CSRC_DIR / name).read_text() for name in CSRC_ORDER),
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
