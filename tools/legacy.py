"""PJSIP's legacy Python module (``pjsip-apps/src/python``), built for comparison only.

Benchmarks and the differential tests both use it. :func:`build_legacy` compiles a copy
of the fetched tree's ``_pjsua.c`` against vendor/pjproject's static libraries into the
cache (``~/.cache/pjsua-ffi/legacy/``, or ``$PJSUA_FFI_CACHE``) and returns the folder to
put on ``PYTHONPATH``. Nothing of it goes into the repository or the package.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, List

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("PJSUA_FFI_CACHE", Path.home() / ".cache" / "pjsua-ffi"))
VENDOR = ROOT / "vendor" / "pjproject"

# The legacy module's make_call() has no way to turn off the text stream that
# pjproject 2.17 adds to every call (up to 300 ms stall per hangup); this line, added
# at build time to a copy of _pjsua.c in the cache, does what pjsua_ffi does by default.
TEXT_ANCHOR = "pjsua_call_setting_default(&option);"
TEXT_PATCH = ("pjsua_call_setting_default(&option);\n"
              "#if PJ_VERSION_NUM >= ((2 << 24) | (17 << 16))\n"
              "        option.txt_cnt = 0;  /* pjsua-ffi benchmarks */\n"
              "#endif")

# The same variant adds IPv4 media, as pjsua_ffi's AccountConfig and the C program: with
# IPv6 built in, pjsua's default looks up the host name's IPv6 address at every call.
IPV6_ANCHOR = "        status = pjsua_acc_add(&cfg, is_default, &acc_id);"
IPV6_PATCH = ("        cfg.ipv6_media_use = PJSUA_IPV6_DISABLED;  /* pjsua-ffi benchmarks */\n"
              + IPV6_ANCHOR)

_FILES = ["_pjsua.c", "_pjsua.h", "pjsua.py", "setup.py", "helper.mak", "python3_compat.h"]


def stamp_ok(stamp_file: Path, stamp: str, *outputs: Path) -> bool:
    """True when ``stamp_file`` holds ``stamp`` and every output exists."""
    return (stamp_file.exists() and stamp_file.read_text() == stamp
            and all(p.exists() for p in outputs))


def digest(*parts: Any) -> str:
    """A hash over bytes and the str() of anything else, for build stamps."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else str(part).encode())
        h.update(b"\0")
    return h.hexdigest()


def lib_state(files: List[str]) -> str:
    """The modification times of the static libraries: a rebuild of pjproject shows."""
    return ";".join(f"{f}:{os.stat(f).st_mtime_ns}" for f in files if os.path.exists(f))


def legacy_source() -> Path:
    return VENDOR / "pjsip-apps" / "src" / "python"


def samples_source() -> Path:
    """The legacy sample programs (Python 2), run by the tests converted, never copied."""
    return legacy_source() / "samples"


def convert_py2(source: str, name: str = "sample") -> str:
    """Python 2 source to Python 3 with the standard 2to3 fixers: lib2to3 where Python
    still has it (up to 3.12), else fissix, its fork on PyPI (tools/dev installs it)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from lib2to3 import refactor  # type: ignore[import-not-found]
            fixers = "lib2to3.fixes"
        except ImportError:
            from fissix import refactor  # type: ignore[import-not-found,no-redef]
            fixers = "fissix.fixes"
        tool = refactor.RefactoringTool(refactor.get_fixers_from_package(fixers))
        return str(tool.refactor_string(source, name))


def build_legacy(text_off: bool = False) -> Path:
    """Build the legacy module out of the repo, into the cache, against vendor/pjproject's
    static libraries (once; a stamp notes what it was built from). ``text_off`` builds
    the benchmarks' variant without the per-call text stream. Returns the folder to put
    on PYTHONPATH (it holds ``pjsua.py`` and ``_pjsua*.so``)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("PJSUA_FFI_SKIP_FFIBUILDER", "1")  # build_pjsip: no cffi step
    from build_pjsip import make_vars

    src = legacy_source()
    if not (src / "_pjsua.c").exists():
        raise RuntimeError(f"{src} has no _pjsua.c: this pjproject has no legacy module")
    vendor = VENDOR.resolve()
    out = CACHE / "legacy" / ("text-off" if text_off else "stock")
    lib_dir = out / "lib"
    stamp = digest(*[(src / f).read_bytes() for f in _FILES if (src / f).exists()],
                   sys.version, text_off, TEXT_PATCH, IPV6_PATCH,
                   lib_state(make_vars()["PJ_LIB_FILES"].split()))
    stamp_file = out / "stamp"
    if stamp_ok(stamp_file, stamp, lib_dir / "pjsua.py"):
        return lib_dir
    if out.exists():
        shutil.rmtree(out)
    work = out / "src"
    shutil.copytree(src, work)
    # The copy lives outside the tree: point its relative paths back at the tree.
    setup = work / "setup.py"
    setup.write_text(setup.read_text().replace("'../../../version.mak'",
                                               repr(str(vendor / "version.mak"))))
    helper = work / "helper.mak"
    helper.write_text(helper.read_text().replace("../../../build.mak",
                                                 str(vendor / "build.mak")))
    if text_off:
        code = (work / "_pjsua.c").read_text()
        if code.count(TEXT_ANCHOR) != 1:
            raise RuntimeError("legacy _pjsua.c changed: the text-stream patch does not apply")
        if code.count(IPV6_ANCHOR) != 1:
            raise RuntimeError("legacy _pjsua.c changed: the IPv4-media patch does not apply")
        code = code.replace(TEXT_ANCHOR, TEXT_PATCH).replace(IPV6_ANCHOR, IPV6_PATCH)
        (work / "_pjsua.c").write_text(code)
    lib_dir.mkdir(parents=True)
    build_log = out / "build.log"
    with open(build_log, "w") as fh:
        rc = subprocess.run([sys.executable, "setup.py", "build_ext", "--build-lib",
                             str(lib_dir)], cwd=str(work), stdout=fh,
                            stderr=subprocess.STDOUT).returncode
    if rc != 0:
        tail = build_log.read_text(errors="replace").splitlines()[-25:]
        raise RuntimeError(f"the legacy module did not build (see {build_log}):\n"
                           + "\n".join(tail))
    shutil.copyfile(work / "pjsua.py", lib_dir / "pjsua.py")
    stamp_file.write_text(stamp)
    return lib_dir


if __name__ == "__main__":
    print(build_legacy("--text-off" in sys.argv[1:]))
