"""The manylinux wheel installs and works where nothing was built: ``tools/dev
wheel-check`` builds it and uses it in a fresh minimal Debian root with no compiler and
no -dev packages (see tools/fresh-root). Needs root (chroot, mounts) and network access
to Debian's and PyPI's registries; skipped inside such a root, where it would nest."""

from __future__ import annotations

import os
import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.support import ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (chroot and mounts)"),
    pytest.mark.skipif(os.environ.get("PJSUA_FFI_FRESH_ROOT") == "1",
                       reason="already inside a root made by tools/fresh-root"),
]


def test_wheel_installs_and_calls_in_a_root_without_a_compiler() -> None:
    proc = subprocess.run(["bash", "tools/dev", "wheel-check"], cwd=str(ROOT),
                          capture_output=True, text=True, timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "no compiler, no -dev package" in out
    # Before libasound2 was installed, the import failed and named the package.
    assert re.search(r"ImportError: libasound\.so\.2: .*apt-get install libasound2", out)
    assert re.search(r"^pjsua-ffi \d+\.\d+\.\d+$", out, re.M)
    assert "SRTP: yes" in out and "TLS: yes" in out
    # The two calls, plain and SRTP, each carried the tone.
    assert "accounts alice and bob ready (SRTP required)" in out
    assert out.count("OK: the tone crossed the call") == 2
    wheels = list((ROOT / "dist" / "wheelhouse").glob("*.whl"))
    assert len(wheels) == 1
    wheel: Path = wheels[0]
    assert re.search(r"-manylinux_2_\d+_x86_64\.whl$", wheel.name), wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    libs = [n for n in names if n.startswith("pjsua_ffi.libs/")]
    # ALSA stays the system's; libsrtp2 is inside the extension, NSS is not needed.
    assert not any("libasound" in n or "libsrtp" in n or "libnss" in n for n in libs), libs
    assert any("libportaudio" in n for n in libs) and any("libssl" in n for n in libs)
