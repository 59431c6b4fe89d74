"""pjproject's legacy sample programs and the legacy tutorial's programs: each is run on
both modules by a differential scenario (tests/test_differential.py runs them; the
samples go through the one runner, tests/legacy_scenarios/samples.py). These tests keep
that list whole: a sample pjproject adds, or a scenario that goes, fails here."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Dict, Set

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "tests" / "legacy_scenarios"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.legacy import convert_py2, samples_source  # noqa: E402

SAMPLES = samples_source()

# Samples that no scenario can run headless on loopback, with the reason (none: the
# registration sample's pjsip.org is named 127.0.0.1 in its own mount namespace).
CANNOT_RUN: Dict[str, str] = {}

# The programs of the legacy Python SIP tutorial (its pages on calls, accounts and
# registration, presence and IM, media, conference) and the scenarios, written as a
# user following those pages would, that run them both ways.
TUTORIAL: Dict[str, str] = {
    "hello world, a user-less account, make and receive a call": "tutorial_calls",
    "simple call (the caller side)": "sample_calls",
    "call menu (make, answer, hang up)": "sample_call_pair",
    "registration with a server": "sample_registration",
    "registration, wrong password, unregistration, a call through the proxy":
        "registration",
    "presence and IM, one process": "sample_presence",
    "presence and IM between two programs": "sample_presence_pair",
    "buddies, subscriptions, status, pager and typing": "im_presence",
    "WAV playback, recording, playlists, the conference bridge": "media",
    "a three-party conference with a WAV player and recorder": "tutorial_conference",
}


def _run_by_scenarios() -> Dict[str, Set[str]]:
    runs: Dict[str, Set[str]] = {}
    for path in SCENARIOS.glob("sample_*.py"):
        for name in re.findall(r'samples\.run\("(\w+\.py)"', path.read_text()):
            runs.setdefault(name, set()).add(path.stem)
    return runs


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="no legacy samples in this pjproject")
def test_every_sample_is_compared_both_ways() -> None:
    samples = {p.name for p in SAMPLES.glob("*.py")}
    assert samples, SAMPLES
    runs = _run_by_scenarios()
    assert samples - set(runs) == set(CANNOT_RUN), sorted(samples - set(runs))
    # call.py runs as a callee and as a caller; presence.py alone and in pairs.
    assert runs["call.py"] >= {"sample_calls", "sample_call_pair"}
    assert runs["presence.py"] >= {"sample_presence", "sample_presence_pair"}


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="no legacy samples in this pjproject")
@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.py")))
def test_sample_converts_with_print_and_except_only(name: str) -> None:
    """2to3 only modernises print and ``except X, e`` in them: the converted program
    compiles, and the rest of its text is the sample's own."""
    source = (SAMPLES / name).read_text()
    converted = convert_py2(source, name)
    compile(converted, name, "exec")
    untouched = [a for a, b in zip(source.splitlines(), converted.splitlines())
                 if a == b]
    assert len(untouched) > len(source.splitlines()) // 2


def test_every_tutorial_program_has_its_scenario() -> None:
    for program, scenario in TUTORIAL.items():
        assert (SCENARIOS / f"{scenario}.py").exists(), (program, scenario)
