"""Registration at kamailio (the legacy tutorial's registration program): digest auth
with the right and a wrong password, unregistration, and a call through the proxy."""

import os

import pjsua as pj
from tests.legacy_scenarios.tracer import AccountTrace, T, loopback_lib, loopback_transport, wait

NEEDS_KAMAILIO = True

server = os.environ["LEGACY_DIFF_KAMAILIO"]  # host:port
lib = loopback_lib(pj.Lib())
tp = loopback_transport(lib)
lib.start()


class RegTrace(AccountTrace):  # type: ignore[misc,valid-type]
    """AccountTrace that also counts on_reg_state (``reg_expires`` is 0 while an
    un-REGISTER is on its way, and -1 after)."""

    def __init__(self, channel: str) -> None:
        AccountTrace.__init__(self, channel)
        self.reg_states = 0

    def on_reg_state(self) -> None:
        AccountTrace.on_reg_state(self)
        self.reg_states += 1


def account(user: str, password: str, channel: str) -> tuple:
    cfg = pj.AccountConfig(server, user, password, registrar=f"sip:{server}",
                           proxy=f"sip:{server}")
    cfg.transport_id = tp._id
    cfg.rtp_transport_cfg = pj.TransportConfig(0, "127.0.0.1", "127.0.0.1")
    # Legacy's credential list is shared by every AccountConfig (the deliberate
    # difference "config-lists"): only this account's own credential is compared.
    T.obj(f"config of {user}", cfg, skip=("auth_cred",))
    T.obj(f"credential of {user}", cfg.auth_cred[-1])
    cb = RegTrace(channel)
    # Only the first account becomes the default: otherwise which one is the default
    # when alice's registration events arrive is a race (in both modules).
    acc = lib.create_account(cfg, set_default=(user == "alice"), cb=cb)
    return acc, cb


good, good_cb = account("alice", "alice-pw", "alice")
bad, bad_cb = account("bob", "wrong", "bob")
wait(lambda: good.info().reg_status >= 200 and bad.info().reg_status >= 200)
T.obj("alice registered", good.info())
T.obj("bob refused", bad.info())
seen = good_cb.reg_states
T.call("set_registration(False)", good.set_registration, False)
# Not any later on_reg_state: the first registration may still report (pjsua can send a
# second REGISTER after the first 200), so wait for the un-REGISTER's own end too.
wait(lambda: good_cb.reg_states > seen and good.info().reg_expires == -1)
T.obj("alice unregistered", good.info())
seen = good_cb.reg_states
T.call("set_registration(renew=True)", good.set_registration, renew=True)
wait(lambda: good_cb.reg_states > seen and good.info().reg_expires > 0)
T.obj("alice registered again", good.info())
lib.destroy()
