"""Fresh objects without a library: every config class, constants, SIPUri, AuthCred,
AccountConfig's builders and Error."""

import pjsua as pj
from tests.legacy_scenarios.tracer import T

for name in ("TransportType", "TransportFlag", "CallRole", "CallState", "MediaState",
             "MediaDir", "PresenceActivity", "SubscriptionState", "TURNConnType"):
    cls = getattr(pj, name)
    for const in ("UNSPECIFIED", "UDP", "TCP", "TLS", "IPV6", "UDP_IPV6", "TCP_IPV6",
                  "RELIABLE", "SECURE", "DATAGRAM", "CALLER", "CALLEE", "NULL", "CALLING",
                  "INCOMING", "EARLY", "CONNECTING", "CONFIRMED", "DISCONNECTED", "ACTIVE",
                  "LOCAL_HOLD", "REMOTE_HOLD", "ERROR", "ENCODING", "DECODING",
                  "ENCODING_DECODING", "UNKNOWN", "AWAY", "BUSY", "SENT", "ACCEPTED",
                  "PENDING", "TERMINATED"):
        if hasattr(cls, const):
            T.note(f"{name}.{const}", getattr(cls, const))
            T.note(f"{name}.{const} str", str(getattr(cls, const)))

T.obj("UAConfig()", pj.UAConfig())
T.obj("MediaConfig()", pj.MediaConfig())
T.obj("LogConfig()", pj.LogConfig())
T.obj("LogConfig(3, 'x.log', None, 2)", pj.LogConfig(3, "x.log", None, 2))
T.obj("LogConfig(kw)", pj.LogConfig(level=4, filename="", callback=None, console_level=1))
T.obj("TransportConfig()", pj.TransportConfig())
T.obj("TransportConfig(5099, ...)", pj.TransportConfig(5099, "127.0.0.1", "127.0.0.2"))
T.obj("TransportConfig(kw)", pj.TransportConfig(port=1, bound_addr="b", public_addr="p"))
T.obj("AccountConfig()", pj.AccountConfig())


def built(label, cfg):
    """An AccountConfig after build_config(): its credentials are compared by the last
    one only, since legacy's list is shared by every AccountConfig (the deliberate
    difference "config-lists")."""
    T.obj(label, cfg, skip=("auth_cred",))
    T.obj(label + " own credential", cfg.auth_cred[-1])


built("AccountConfig(domain...)", pj.AccountConfig("example.org", "alice", "secret", "Alice"))
built("AccountConfig(kw)",
      pj.AccountConfig(domain="example.org", username="bob", password="pw", display="",
                       registrar="sip:reg.example.org", proxy="sip:proxy.example.org"))
acc = pj.AccountConfig()
T.call("build_config()", acc.build_config, "example.net", "carol", "pw")
built("after build_config()", acc)
acc2 = pj.AccountConfig()
T.call("build_config(kw)", acc2.build_config, domain="example.net", username="dave",
       password="pw", display="Dave", registrar="sip:r.example.net",
       proxy="sip:p.example.net", rtp_transport_cfg=pj.TransportConfig(4000))
built("after build_config(kw)", acc2)
T.obj("AuthCred(...)", pj.AuthCred("realm", "user", "pw"))
T.obj("AuthCred(kw)", pj.AuthCred(realm="*", username="u", passwd="p", scheme="Digest",
                                  passwd_type=0))

# Objects a program may make itself, with every default.
T.obj("CallInfo()", pj.CallInfo())
T.obj("BuddyInfo()", pj.BuddyInfo())
for cb in (pj.AccountCallback(), pj.CallCallback(), pj.BuddyCallback()):
    T.obj(type(cb).__name__ + "()", cb)

# The legacy SIPUri parses with pjsip: without a Lib (pjlib) it crashes the process.
lib = pj.Lib()
# URIs whose port or transport parameter, and texts that are not SIP URIs, behave as the
# deliberate difference "sipuri-fixes" says (its own test covers them): here the fields,
# encode() and the kind of error are compared for the others.
for text in ("sip:alice@example.org", "<sips:carol@example.net>", "sip:example.org", "",
             "Alice <sip:alice@example.org;transport=udp>", '"Bob" <sip:bob@127.0.0.1>'):
    u = T.call(f"SIPUri({text!r})", pj.SIPUri, text)
    if u is not None:
        T.obj(f"SIPUri({text!r}) fields", u)
        T.call(f"SIPUri({text!r}).encode()", u.encode)
for text in ("tel:+123", "garbage"):
    try:
        pj.SIPUri(text)
        T.note(f"SIPUri({text!r}) raised TypeError", False)
    except TypeError:
        T.note(f"SIPUri({text!r}) raised TypeError", True)
u = pj.SIPUri()
T.obj("SIPUri()", u)
T.call("SIPUri().decode()", u.decode, "sip:x@y;transport=udp")
T.obj("after decode", u)
T.call("SIPUri(uri=).encode()", pj.SIPUri(uri="sip:z@w").encode)

e = pj.Error("op()", None, 70001)
T.obj("Error(op, None, code)", e)
T.call("Error.err_msg()", e.err_msg)
e2 = pj.Error(op_name="x()", obj="thing", err_code=1, err_msg="custom")
T.obj("Error(kw)", e2)
T.call("Error(kw).err_msg()", e2.err_msg)
T.note("isinstance(Error, Exception)", isinstance(e, Exception))
lib.destroy()
