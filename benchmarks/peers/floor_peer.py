"""Benchmark peer: the least any Python binding can cost (the "Python floor" row).

pjsua runs as in the C program (its own worker thread, its callbacks in C). Each
callback the workload needs calls one Python function through cffi with plain integers,
and each operation (make, answer, hang up, send) is one C function. No objects, no
snapshots, no event queue, no checks: what is left is the price of Python itself (the
interpreter, the GIL, and the workload loop and callbacks of common.py, which every
Python peer shares). A binding can approach this row, not pass it; it is not a binding
anyone should use (nothing stops a crash here).

``run.py`` compiles the C part with cffi into the cache (``build``) and passes the
folder in ``FLOOR_MODULE_DIR``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Dict

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import CallRec, Tracker, main  # noqa: E402

CDEF = """
extern "Python" void floor_py_state(int call_id, int state);
extern "Python" void floor_py_media(int call_id, int active, int slot);
extern "Python" void floor_py_incoming(int call_id);
extern "Python" void floor_py_pager(void);
extern "Python" void floor_py_status(int code);
int floor_start(int port, int max_calls, int *out_port);
int floor_make_call(const char *uri, int *call_id);
int floor_answer(int call_id, int code);
int floor_hangup(int call_id);
int floor_send(const char *uri, const char *body, int body_len);
int floor_conf_connect(int src, int dst);
"""

SOURCE = r"""
#include "bench_ua.h"   /* benchmarks/c: the same user agent as the C program */

static void floor_py_state(int call_id, int state);
static void floor_py_media(int call_id, int active, int slot);
static void floor_py_incoming(int call_id);
static void floor_py_pager(void);
static void floor_py_status(int code);

static pjsua_acc_id floor_acc;

static void setting(pjsua_call_setting *s)
{
    pjsua_call_setting_default(s);
    s->txt_cnt = 0;
}

static void cb_call_state(pjsua_call_id id, pjsip_event *e)
{
    pjsua_call_info ci;
    (void)e;
    if (pjsua_call_get_info(id, &ci) == PJ_SUCCESS)
        floor_py_state(id, (int)ci.state);
}

static void cb_media(pjsua_call_id id)
{
    pjsua_call_info ci;
    if (pjsua_call_get_info(id, &ci) == PJ_SUCCESS)
        floor_py_media(id, ci.media_status == PJSUA_CALL_MEDIA_ACTIVE, ci.conf_slot);
}

static void cb_incoming(pjsua_acc_id acc, pjsua_call_id id, pjsip_rx_data *rdata)
{
    (void)acc; (void)rdata;
    floor_py_incoming(id);
}

static void cb_rx_offer(pjsua_call_id id, const pjmedia_sdp_session *offer, void *reserved,
                        pjsip_status_code *code, pjsua_call_setting *s)
{
    (void)id; (void)offer; (void)reserved; (void)code;
    s->txt_cnt = 0;
}

static void cb_pager2(pjsua_call_id call_id, const pj_str_t *from, const pj_str_t *to,
                      const pj_str_t *contact, const pj_str_t *mime, const pj_str_t *body,
                      pjsip_rx_data *rdata, pjsua_acc_id acc_id)
{
    (void)call_id; (void)from; (void)to; (void)contact; (void)mime; (void)body;
    (void)rdata; (void)acc_id;
    floor_py_pager();
}

static void cb_status2(pjsua_call_id call_id, const pj_str_t *to, const pj_str_t *body,
                       void *user_data, pjsip_status_code status, const pj_str_t *reason,
                       pjsip_tx_data *tdata, pjsip_rx_data *rdata, pjsua_acc_id acc_id)
{
    (void)call_id; (void)to; (void)body; (void)user_data; (void)reason; (void)tdata;
    (void)rdata; (void)acc_id;
    floor_py_status((int)status);
}

int floor_start(int port, int max_calls, int *out_port)
{
    pjsua_callback cb;
    const char *what;
    pj_bzero(&cb, sizeof(cb));
    cb.on_call_state = &cb_call_state;
    cb.on_call_media_state = &cb_media;
    cb.on_incoming_call = &cb_incoming;
    cb.on_call_rx_offer = &cb_rx_offer;
    cb.on_pager2 = &cb_pager2;
    cb.on_pager_status2 = &cb_status2;
    return bench_ua_start(&cb, port, max_calls, &floor_acc, out_port, &what);
}

int floor_make_call(const char *uri, int *call_id)
{
    pjsua_call_setting s;
    pj_str_t u = pj_str((char*)uri);
    setting(&s);
    return pjsua_call_make_call(floor_acc, &u, &s, NULL, NULL, call_id);
}

int floor_answer(int call_id, int code)
{
    pjsua_call_setting s;
    setting(&s);
    return pjsua_call_answer2(call_id, &s, (unsigned)code, NULL, NULL);
}

int floor_hangup(int call_id)
{
    return pjsua_call_hangup(call_id, 0, NULL, NULL);
}

int floor_send(const char *uri, const char *body, int body_len)
{
    pj_str_t u = pj_str((char*)uri), mime = pj_str("text/plain"), b;
    b.ptr = (char*)body;
    b.slen = body_len;
    return pjsua_im_send(floor_acc, &u, &mime, &b, NULL, NULL);
}

int floor_conf_connect(int src, int dst)
{
    return pjsua_conf_connect(src, dst);
}
"""


C_DIR = HERE.parent / "c"


def build(out_dir: Path, cflags: list, ldflags: list) -> None:
    """Compile the module into ``out_dir`` (run.py calls this)."""
    import cffi

    ffib = cffi.FFI()
    ffib.cdef(CDEF)
    ffib.set_source("_floor", SOURCE, include_dirs=[str(C_DIR)],
                    extra_compile_args=cflags, extra_link_args=ldflags)
    ffib.compile(tmpdir=str(out_dir))


class FloorStack:
    def __init__(self) -> None:
        sys.path.insert(0, os.environ["FLOOR_MODULE_DIR"])
        from _floor import ffi, lib  # noqa: PLC0415

        self.ffi, self.lib = ffi, lib
        self.recs: Dict[int, CallRec] = {}
        self.tracker = Tracker()
        self.audio = False
        self.pending: Any = None

        @ffi.def_extern()
        def floor_py_state(call_id: int, state: int) -> None:
            rec = self.recs.get(call_id)
            if rec is None:
                # An outgoing call's first event (CALLING) comes inside make_call.
                rec, self.pending = self.pending, None
                if rec is None:
                    return
                self.recs[call_id] = rec
            if state == 5:  # CONFIRMED
                self.tracker.confirmed(rec)
            elif state == 6:  # DISCONNECTED
                self.recs.pop(call_id, None)
                self.tracker.disconnected(rec)

        @ffi.def_extern()
        def floor_py_media(call_id: int, active: int, slot: int) -> None:
            rec = self.recs.get(call_id)
            if rec is None or not active:
                return
            if self.audio:
                lib.floor_conf_connect(slot, 0)
                lib.floor_conf_connect(0, slot)
            self.tracker.media_active(rec)

        @ffi.def_extern()
        def floor_py_incoming(call_id: int) -> None:
            self.recs[call_id] = CallRec()
            lib.floor_answer(call_id, 200)

        @ffi.def_extern()
        def floor_py_pager() -> None:
            self.tracker.message_received()

        @ffi.def_extern()
        def floor_py_status(code: int) -> None:
            self.tracker.message_status(code)

    def start(self, port: int, max_calls: int, audio: bool, tracker: Tracker) -> int:
        self.audio, self.tracker = audio, tracker
        out = self.ffi.new("int *")
        st = self.lib.floor_start(port, max_calls, out)
        if st != 0:
            raise RuntimeError(f"floor_start: status {st}")
        return int(out[0])

    def make_call(self, uri: str, rec: CallRec) -> Any:
        cid = self.ffi.new("int *")
        self.pending = rec
        st = self.lib.floor_make_call(uri.encode(), cid)
        if st != 0:
            raise RuntimeError(f"make_call: status {st}")
        return cid[0]

    def hangup(self, call: Any) -> None:
        self.lib.floor_hangup(call)

    def send_message(self, uri: str, seq: int) -> None:
        body = f"benchmark message {seq}".encode()
        st = self.lib.floor_send(uri.encode(), body, len(body))
        if st != 0:
            raise RuntimeError(f"im_send: status {st}")


if __name__ == "__main__":
    main(FloorStack())
