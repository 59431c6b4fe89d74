"""Registration with digest auth against a real kamailio, and calls routed through it."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from peers.kamailio import Kamailio
from support import run_scenario

from tests.scenarios import registration

pytestmark = pytest.mark.kamailio

@pytest.fixture(scope="module")
def kam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kamailio]:
    work: Path = tmp_path_factory.mktemp("kamailio")
    server = Kamailio(work, users={"alice": "alice-pw", "bob": "bob-pw"}, presence=False)
    with server.start():
        yield server


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_register_with_right_and_wrong_password(kam: Kamailio, transport: str) -> None:
    r = run_scenario(registration.register_with_right_and_wrong_password, str(kam.port),
                     transport)
    status, reason, expires = r["good"][0][1:]
    assert (status, reason) == (200, "OK") and expires > 0
    assert r["active"] == 1 and r["status"] == 200 and r["expires"] > 0
    assert r["uri"] == "<sip:alice@127.0.0.1>"
    assert r["bad"][0][1] in (401, 403)
    assert r["good"][1][1] == 200 and r["after"] <= 0  # unregistered


def test_calls_between_accounts_registered_at_kamailio(kam: Kamailio) -> None:
    r = run_scenario(registration.calls_between_accounts_registered_at_kamailio,
                     str(kam.port))
    assert r["states"][-2:] == ["CONFIRMED", "DISCONNECTED"]
    assert "sip:alice@127.0.0.1" in r["caller"]
    assert "X-Through: kamailio" in r["invite"] and "Record-Route:" in r["invite"]
    assert r["unknown"][2] == 404
