"""Differential tests: each program of tests/legacy_scenarios/ runs on PJSIP's legacy
``pjsua`` module (built from vendor/ by tools/legacy.py) and on ours, each in its own
process; the two traces of what the program observed must be equal once volatile values
are normalised (tests/legacy_scenarios/normalise.py). The legacy runs also note which
legacy names the programs touched; the session's summary prints the coverage.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, List, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "tests" / "legacy_scenarios"
_NOT_SCENARIOS = {"__init__", "tracer", "normalise", "samples"}
NAMES = sorted(p.stem for p in SCENARIOS.glob("*.py")
               if p.stem not in _NOT_SCENARIOS and not p.stem.startswith("_"))
TIMEOUT = 90.0
_ASOUNDRC = "pcm.!default {\n  type null\n}\nctl.!default {\n  type hw\n  card 0\n}\n"

# Filled as the tests run; conftest.py prints it in the session summary.
STATS: Dict[str, Any] = {"compared": [], "failed": [], "touched": set(), "inventory": {},
                         "extras": set(), "deliberate": {}}

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pjsua_ffi._differences import DIFFERENCES  # noqa: E402
from tests.legacy_scenarios.normalise import deliberate, normalise  # noqa: E402
from tests.support import c_stacks  # noqa: E402


@pytest.fixture(scope="session")
def legacy_dir() -> Path:
    from tools.legacy import build_legacy

    try:
        return build_legacy()
    except RuntimeError as exc:  # no legacy module in this pjproject: nothing to compare
        pytest.skip(str(exc))


def _env(mode: str, legacy: Path, trace: Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGACY_DIFF_")}
    path = [str(legacy), str(ROOT)] if mode == "legacy" else [str(ROOT)]
    env.update(PYTHONPATH=os.pathsep.join(path), PYTHONUNBUFFERED="1",
               PYTHONFAULTHANDLER="1", LEGACY_DIFF_TRACE=str(trace))
    if mode == "legacy":
        env["LEGACY_DIFF_COVERAGE"] = "1"
    return env


def _netns() -> List[str]:
    """A command prefix that runs a program in a new network namespace holding only a
    loopback interface (for programs that bind to every address, like pjproject's
    samples) and a mount namespace of its own (a program may bind-mount its own
    /etc/hosts), or [] when this machine cannot make them."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        return []
    return ["unshare", "--net", "--mount", "--", "sh", "-c", 'ip link set lo up && exec "$@"',
            "sh"]


def _needs(name: str, what: str) -> bool:
    return f"{what} = True" in (SCENARIOS / f"{name}.py").read_text()


@pytest.fixture(scope="module")
def kamailio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One kamailio (registrar and proxy on 127.0.0.1) for the scenarios that need it;
    gives its host:port."""
    if shutil.which("kamailio") is None:
        pytest.skip("kamailio is not installed (tools/dev installs it)")
    from peers.kamailio import Kamailio

    server = Kamailio(tmp_path_factory.mktemp("kamailio"),
                      users={"alice": "alice-pw", "bob": "bob-pw"}, presence=False)
    with server.start():
        yield f"{server.host}:{server.port}"


def _start(name: str, mode: str, legacy: Path, work: Path,
           extra: Dict[str, str]) -> Tuple[subprocess.Popen, Path]:
    run_dir = work / mode
    run_dir.mkdir()
    trace = run_dir / "trace"
    # Programs that use the default sound device (the samples) get ALSA's null device.
    (run_dir / ".asoundrc").write_text(_ASOUNDRC)
    cmd = [sys.executable, "-m", f"tests.legacy_scenarios.{name}"]
    if _needs(name, "NEEDS_NETNS"):
        prefix = _netns()
        if not prefix:
            pytest.skip("needs a network namespace (root, unshare and ip)")
        cmd = prefix + cmd
    env = dict(_env(mode, legacy, trace), HOME=str(run_dir), **extra)
    proc = subprocess.Popen(cmd, cwd=str(run_dir), env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    return proc, trace


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def _descendants(pid: int) -> List[int]:
    """The processes below ``pid``, parents before children."""
    children: Dict[int, List[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found: List[int] = []
    todo = list(children.get(pid, []))
    while todo:
        p = todo.pop(0)
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def _finish(proc: subprocess.Popen, label: str) -> Tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        # A hang says where: the C stacks of every process below the runner (the
        # program may run under unshare and sh).
        below = _descendants(proc.pid)
        stacks = "\n".join(f"--- C stacks of pid {pid} ({_comm(pid)})\n{c_stacks(pid)}"
                            for pid in [proc.pid, *below] if _comm(pid).startswith("python"))
        proc.kill()  # then those below: orphans now, found before the kill
        for pid in below:  # (a program's kamailio, say)
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        out, err = proc.communicate()
        raise AssertionError(f"{label}: timed out after {TIMEOUT} s\n--- stdout\n{out[-3000:]}"
                             f"\n--- stderr\n{err[-3000:]}\n{stacks}") from None
    return proc.returncode, out, err


def _read(trace: Path) -> List[Dict[str, Any]]:
    records: List[Dict[str, Any]] = []
    for path in sorted(trace.parent.glob(trace.name + "*")):
        with open(path) as fh:
            records.extend(json.loads(line) for line in fh if line.strip())
    return records


def _drop_extras(legacy: Any, ours: Any, extras: Set[str]) -> Any:
    """Ours with the attributes legacy's objects lack taken out of its object records
    (extras are allowed; they are listed in the summary)."""
    if isinstance(legacy, dict) and isinstance(ours, dict):
        if "str" in legacy and "str" in ours:
            for k in ours.keys() - legacy.keys():
                extras.add(k)
            ours = {k: v for k, v in ours.items() if k in legacy}
        return {k: _drop_extras(legacy.get(k), v, extras) for k, v in ours.items()}
    if isinstance(legacy, list) and isinstance(ours, list):
        return [_drop_extras(legacy[i] if i < len(legacy) else None, v, extras)
                for i, v in enumerate(ours)]
    return ours


def _delta(a: Any, b: Any, path: str = "") -> List[str]:
    """Where two records differ, as ``path: legacy -> ours`` lines."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: List[str] = []
        for k in sorted(a.keys() | b.keys()):
            out += _delta(a.get(k, "<absent>"), b.get(k, "<absent>"), f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _delta(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"  {path or '.'}: {json.dumps(a)} -> {json.dumps(b)}"]


def explain(legacy: Dict[str, List[Any]], ours: Dict[str, List[Any]]) -> str:
    """A readable account of how two normalised traces differ: per channel, records
    only one side has, and for records at the same place, the fields that differ."""
    out: List[str] = []
    for ch in sorted(legacy.keys() | ours.keys()):
        a, b = legacy.get(ch, []), ours.get(ch, [])
        if a == b:
            continue
        out.append(f"== {ch}")
        ja = [json.dumps(r, sort_keys=True) for r in a]
        jb = [json.dumps(r, sort_keys=True) for r in b]
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ja, jb,
                                                          autojunk=False).get_opcodes():
            if op == "equal":
                continue
            if op == "replace" and i2 - i1 == j2 - j1:
                for x, y in zip(a[i1:i2], b[j1:j2]):
                    label = x[0] if isinstance(x, list) and x else "record"
                    out.append(f"~ {str(label)[:100]}")
                    out.extend(_delta(x, y))
                continue
            out.extend(f"- {line[:300]}" for line in ja[i1:i2])
            out.extend(f"+ {line[:300]}" for line in jb[j1:j2])
    return "\n".join(out)


# Scenarios that still differ, with what differs. Strict: once a scenario compares
# equal its entry must go (an XPASS fails), so the list only ever shrinks. Each entry is
# either a divergence still to fix or one for pjsua_ffi/_differences.py.
STILL_DIFFERENT: Dict[str, str] = {}


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(
        reason=STILL_DIFFERENT[n], strict=not STILL_DIFFERENT[n].startswith("NOT STRICT")))
    if n in STILL_DIFFERENT else n for n in NAMES])
def test_scenario_matches_legacy(name: str, legacy_dir: Path,
                                 request: pytest.FixtureRequest) -> None:
    extra = {}
    if _needs(name, "NEEDS_KAMAILIO"):
        extra["LEGACY_DIFF_KAMAILIO"] = request.getfixturevalue("kamailio")
    with tempfile.TemporaryDirectory(prefix=f"legacy-diff-{name}-") as tmp:
        work = Path(tmp)
        runs = {mode: _start(name, mode, legacy_dir, work, extra)
                for mode in ("legacy", "ours")}
        results = {mode: _finish(proc, f"{name} ({mode})") for mode, (proc, _) in runs.items()}
        traces = {mode: _read(trace) for mode, (_, trace) in runs.items()}
    for mode, trace in traces.items():  # a sample's script: every step must have matched
        missed = [r["r"][0] for r in trace if r["ch"].endswith(":stdin") and r["r"][1] != "True"]
        assert not missed, f"{name} ({mode}): no output matched the steps {missed}\n" \
                           f"{results[mode][2][-3000:]}"
    cov = [r for r in traces["legacy"] if r["ch"] == "__coverage__"]
    for rec in cov:
        STATS["touched"].update(rec["r"])
    got = {m: normalise([r for r in t if r["ch"] != "__coverage__"]) for m, t in traces.items()}
    undone = {m: deliberate(got[m], m) for m in got}
    listed = {d.key for d in DIFFERENCES}
    for mode, keys in undone.items():
        assert set(keys) <= listed, f"{mode}: not in pjsua_ffi/_differences.py: {keys}"
        for key in keys:
            STATS["deliberate"].setdefault(key, set()).add(name)
    got["ours"] = _drop_extras(got["legacy"], got["ours"], STATS["extras"])
    for mode, (rc, out, _) in results.items():
        got[mode]["stdout"] = normalise([{"ch": "o", "r": line}
                                         for line in out.splitlines()]).get("o", [])
        got[mode]["exit"] = [f"rc={rc}"]
    STATS["compared"].append(name)
    if got["legacy"] != got["ours"]:
        STATS["failed"].append(name)
        diff = explain(got["legacy"], got["ours"])
        tails = "\n".join(f"--- {m} stderr\n{r[2][-1500:]}" for m, r in results.items())
        raise AssertionError(f"scenario {name}: traces differ\n{diff}\n{tails}")


# Legacy names no program can reach through the legacy API, each with the reason (none:
# typing_in_call.py reaches CallCallback.on_typing with a SIP peer of its own).
UNREACHABLE: Dict[str, str] = {}


def test_coverage_of_the_legacy_surface(legacy_dir: Path) -> None:
    """Runs after the scenarios: every legacy name is touched by some scenario, but the
    few no program can reach (UNREACHABLE). Needs the whole module's scenarios."""
    env = _env("legacy", legacy_dir, Path(os.devnull))
    env.pop("LEGACY_DIFF_COVERAGE")
    proc = subprocess.run([sys.executable, "-c",
                           "import json; from tests.legacy_scenarios.tracer import inventory;"
                           "print(json.dumps(inventory()))"],
                          cwd=tempfile.gettempdir(), env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    inv: Dict[str, List[str]] = json.loads(proc.stdout)
    STATS["inventory"] = inv
    names = {n for ns in inv.values() for n in ns}
    assert names, "the legacy module's inventory is empty"
    # What the scenarios touched is named as the inventory names things.
    assert {n.split(".", 1)[0] for n in STATS["touched"]} <= set(inv)
    if len(STATS["compared"]) < len(NAMES):
        pytest.skip("coverage is measured over all scenarios (some were not run)")
    untouched = names - STATS["touched"]
    assert untouched <= set(UNREACHABLE), sorted(untouched - set(UNREACHABLE))


# Where the deliberate differences that show in a trace (normalise.deliberate) are
# undone: each only where the scenario makes it happen, never elsewhere.
UNDONE: Dict[str, Set[str]] = {
    "pending-notify": {"sample_presence", "sample_presence_pair"},
    "pager-status-of-deleted-account": {"sample_presence"},
}


def test_deliberate_differences_undone_where_expected() -> None:
    """Runs after the scenarios (all of them, or it skips)."""
    if len(STATS["compared"]) < len(NAMES):
        pytest.skip("needs every scenario")
    assert STATS["deliberate"] == UNDONE
