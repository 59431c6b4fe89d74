"""Certificates for the TLS tests, made with the openssl command line: a CA, a server
certificate for 127.0.0.1/::1/localhost (its key encrypted with a password), a client
certificate, a certificate naming another host, and a second, unrelated CA."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Dict, List, Tuple

KEY_PASSWORD = "s3cret-key"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _ca(d: Path, name: str) -> None:
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
             "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN=pjsua-ffi test {name}",
             cwd=d)


def _leaf(d: Path, name: str, ca: str, cn: str, san: str, password: str = "") -> None:
    key_opts = ["-passout", f"pass:{password}"] if password else ["-nodes"]
    _openssl("req", "-newkey", "rsa:2048", *key_opts, "-keyout", f"{name}.key",
             "-out", f"{name}.csr", "-subj", f"/CN={cn}", cwd=d)
    (d / f"{name}.ext").write_text(f"subjectAltName={san}\n")
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-out", f"{name}.pem", "-days", "2",
             "-extfile", f"{name}.ext", cwd=d)


def make_pki(d: Path) -> Dict[str, str]:
    """Write the certificates into ``d``; return their paths by name."""
    d.mkdir(parents=True, exist_ok=True)
    _ca(d, "ca")
    _ca(d, "other_ca")
    _leaf(d, "server", "ca", "127.0.0.1", "IP:127.0.0.1,IP:::1,DNS:localhost",
          password=KEY_PASSWORD)
    # pjsua connects to its own listener when it makes a call over TLS (to learn the
    # local address for the Contact), so the client certificate names loopback too.
    _leaf(d, "client", "ca", "client.test", "DNS:client.test,IP:127.0.0.1,IP:::1")
    _leaf(d, "elsewhere", "ca", "elsewhere.test", "DNS:elsewhere.test")
    _leaf(d, "registrar", "ca", "127.0.0.1", "IP:127.0.0.1")  # kamailio's (key in clear)
    leaves = ("server", "client", "elsewhere", "registrar")
    out = {n: str(d / f"{n}.pem") for n in ("ca", "other_ca", *leaves)}
    out.update({f"{n}_key": str(d / f"{n}.key") for n in leaves})
    return out


def make_tls(pki: Dict[str, str], cert: str = "", ca: str = "ca", **flags: Any) -> Any:
    """A TLSSetting (used inside scenario processes): ``cert`` names one of
    :func:`make_pki`'s certificates (its key, and the password for the server's),
    ``ca`` the CA list; other keywords are TLSSetting attributes."""
    import pjsua_ffi as pj

    tls = pj.TLSSetting()
    if ca:
        tls.ca_list_file = pki[ca]
    if cert:
        tls.cert_file = pki[cert]
        tls.privkey_file = pki[f"{cert}_key"]
        if cert == "server":
            tls.password = KEY_PASSWORD
    for key, value in flags.items():
        setattr(tls, key, value)
    return tls


class ToneProbe:
    """Inside a scenario process: a bridge slot that plays a tone of ``freq`` Hz into
    calls (``source.slot``) and a sink that keeps what calls deliver (``sink.slot``).
    Give both to :func:`tests.support.CallLog` (``connect_from``/``connect_to``) so
    they follow the call's slot on every media change."""

    def __init__(self, lib: Any, freq: float) -> None:
        import threading

        from tests.media_support import tone

        self.rate = lib.conf_get_port_info(0).clock_rate
        self.source = lib.create_audio_source(tone(freq, 1.0, self.rate), loop=True)
        self._lock = threading.Lock()
        self._frames: list = []
        self.sink = lib.create_audio_sink(self._keep, copy=True)

    def _keep(self, frames: object) -> None:
        with self._lock:
            self._frames.append(frames)

    def heard(self, seconds: float = 1.0, skip: float = 0.3) -> Dict[str, float]:
        """Listen for ``seconds`` (after dropping what came before and ``skip`` s of
        settling); return the level, dominant frequency and the sample count."""
        import time

        import numpy as np

        from tests.media_support import dominant, rms

        time.sleep(skip)
        with self._lock:
            self._frames.clear()
        time.sleep(seconds)
        with self._lock:
            x = np.concatenate(self._frames) if self._frames else np.zeros(0, np.int16)
        return {"rms": rms(x), "freq": dominant(x, self.rate), "samples": int(x.size)}


def nat_ua(ip: str, public_ip: str = "", stun: str = "", ice: bool = False, turn: str = "",
           turn_password: str = "secret", relay_only: bool = False, user: str = "ua",
           trickle: int = 0, log_level: int = 1) -> Tuple[Any, Any, Any]:
    """Inside a namespace: a started Lib with a UDP SIP transport on ``ip``:5060 (its
    advertised address ``public_ip``, or what STUN finds), media on ``ip``, PCMU only,
    and the NAT traversal asked for. Returns ``(lib, transport, account config)``."""
    import pjsua_ffi as pj
    from tests.media_support import only_codec

    lib = pj.Lib()
    ua = pj.UAConfig()
    ua.stun_host = stun
    mc = pj.MediaConfig()
    mc.no_vad = True
    mc.enable_ice = ice
    if turn:
        mc.enable_turn = True
        mc.turn_server = turn
        mc.turn_cred = pj.AuthCred("test.local", "alice", turn_password)
        mc.ice_aggressive = True
    if relay_only:
        mc.ice_max_host_cands = 0
    if trickle:
        mc.ice_trickle = trickle
    lib.init(ua, pj.LogConfig(level=log_level, console_level=log_level), mc)
    lib.set_null_snd_dev()
    tp = lib.create_transport(pj.TransportType.UDP, pj.TransportConfig(5060, ip, public_ip))
    lib.start()
    only_codec(lib, "PCMU/8000/1")
    info = tp.info()
    cfg = pj.AccountConfig()
    cfg.id = f"sip:{user}@{info.host}:{info.port}"
    cfg.transport_id = tp._id
    cfg.rtp_transport_cfg = pj.TransportConfig(0, ip)  # ICE (or STUN) finds the rest
    return lib, tp, cfg


def sniff_udp_payloads(port: int, seconds: float) -> List[bytes]:
    """UDP payloads sent to ``port`` on 127.0.0.1 during ``seconds``, read off the
    loopback interface with a raw packet socket (needs root)."""
    import socket
    import struct
    import time

    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    sock.bind(("lo", 0))
    sock.settimeout(0.1)
    out: List[bytes] = []
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            try:
                frame = sock.recv(65535)
            except socket.timeout:
                continue
            ip = frame[14:]
            if len(ip) < 28 or ip[9] != 17:
                continue
            ihl = (ip[0] & 0x0F) * 4
            dport = struct.unpack("!H", ip[ihl + 2:ihl + 4])[0]
            if dport == port:
                out.append(ip[ihl + 8:])
    finally:
        sock.close()
    return out


def ulaw_tone_share(payloads: List[bytes], freq: float) -> float:
    """Treat RTP payloads as PCMU: the share of the decoded signal's energy near
    ``freq`` (near 1 for a plain tone, near 0 for encrypted bytes)."""
    import numpy as np

    from tests.media_support import band

    body = b"".join(p[12:172] for p in payloads if len(p) >= 172)  # 20 ms of PCMU
    u = ~np.frombuffer(body, dtype=np.uint8)
    exp = (u >> 4) & 7
    mag = ((((u & 0x0F).astype(np.int32) << 3) + 0x84) << exp) - 0x84
    x = np.where(u & 0x80, -mag, mag).astype(np.float64)
    return band(x, 8000, freq)
