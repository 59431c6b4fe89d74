/* Internal header of the C side of pjsua_ffi._pjsua.
 *
 * The files of this folder form one translation unit: build_pjsip.py compiles a source
 * that includes this header, then each file of CSRC_ORDER in that order. So every
 * function stays `static` (nothing leaks out of the extension, and the compiler may
 * inline the hot paths across files), and what one file uses from another is declared
 * here. Only state is shared by position: poller.c and loop.c (its event-loop mode) read
 * queue.c's queue, and loop.c reads poller.c's poller state.
 *
 *   queue.c       the event: building one, copying it into the queue, handing it out
 *   poller.c      the poller and backup poller that wait for events (pjffi_next_events)
 *   callbacks.c   every pjsua callback shim, with the table of the lock each runs under
 *   call.c        call settings, message data, the hot paths (call, answer, hangup, IM)
 *   presence.c    server subscriptions by token, buddies, our presence
 *   media_port.c  audio ports fed and drained by Python, and their pump
 *   media.c       player end-of-file, recorder close, codec parameters, stream stats
 *   diag.c        crash report, ALSA/JACK quieting, pool counters
 *   features.c    optional parts the build holds
 *   secure.c      TLS, TURN, SRTP and ICE state
 *   loop.c        event-loop mode (asyncio polls pjsua's epoll fd)
 *   gate.c        admission gate for pool workers
 *
 * Flags and counters that threads share without a lock are C11 atomics (stdatomic.h);
 * everything else shared is guarded by the mutex named next to it.
 *
 * The cdef headers (pjsua_ffi/_cdef/) declare for Python the same names as here: the
 * event enum there lists the names only, its values come from this file.
 */
#ifndef PJFFI_H
#define PJFFI_H

#include <pjsua-lib/pjsua.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if PJ_VERSION_NUM < ((2 << 24) | (14 << 16))
#  error "pjsua-ffi needs pjproject 2.14 or newer"
#endif

#define PJFFI_HAS_TXT_STREAM (PJ_VERSION_NUM >= ((2 << 24) | (17 << 16)))

/* What an event is about: pjffi_event.kind. The one list of event kinds. */
enum pjffi_event_kind {
    PJFFI_EV_CALL_STATE = 1,
    PJFFI_EV_INCOMING_CALL,
    PJFFI_EV_CALL_MEDIA_STATE,
    PJFFI_EV_DTMF,
    PJFFI_EV_TRANSFER_REQUEST,
    PJFFI_EV_TRANSFER_STATUS,
    PJFFI_EV_REPLACE_REQUEST,
    PJFFI_EV_CALL_REPLACED,
    PJFFI_EV_PAGER,
    PJFFI_EV_PAGER_STATUS,
    PJFFI_EV_TYPING,
    PJFFI_EV_REG_STATE,
    PJFFI_EV_INCOMING_SUBSCRIBE,
    PJFFI_EV_BUDDY_STATE,
    PJFFI_EV_MWI_INFO,
    PJFFI_EV_CALL_REQUEST,
    PJFFI_EV_LOG,
    PJFFI_EV_SRV_SUBSCRIBE_STATE
};

#define PJFFI_NSTR 6

/* One pjsua callback, flattened (see queue.c). */
typedef struct pjffi_event {
    int kind;
    int call_id;
    int acc_id;
    int other_id;          /* buddy id; the new call of a replacement */
    int code;              /* SIP status, DTMF digit, ... */
    int flag;              /* final, is_typing, DTMF method */
    void *user_data;       /* pjsua user data of the call or message */
    void *obj;             /* pjsua_srv_pres* for incoming SUBSCRIBE */
    pjsua_call_info *call_info;     /* snapshot at the time of the event, or NULL */
    pjsua_acc_info *acc_info;
    pjsua_buddy_info *buddy_info;
    pj_str_t s[PJFFI_NSTR];         /* event strings; s[5] is the raw SIP message */
    int out_code;                   /* answers, for events that need one */
    int out_flag;
    char out_reason[256];
    atomic_int kept;                /* 1: Python holds it past its batch; 2: the batch
                                     * let go; 3: Python let go (see free_events) */
} pjffi_event;

/* The two entry points from C into Python (cffi's extern "Python", _cdef/events.h). */
static void pjffi_py_event(pjffi_event *ev);
static void pjffi_py_log(int level, const char *data, int len);

/* queue.c */
static atomic_int pjffi_events_on;   /* Python takes events (pjffi_enable_events) */
static atomic_int pjffi_log_on;      /* Python takes log lines (pjffi_enable_log) */
static long pjffi_new_token(void);
static int pjffi_thread_register(const char *name);
static void ev_init(pjffi_event *ev, int kind);
static void ev_set(pj_str_t *dst, const pj_str_t *src);
static void ev_raw(pjffi_event *ev, pjsip_rx_data *rdata);
static void deliver(pjffi_event *ev);

/* poller.c */
static int wake_poller_locked(void);
static void send_wake(void);
static void deadline_in(struct timespec *ts, int timeout_ms);

/* callbacks.c */
static void on_incoming_subscribe(pjsua_acc_id acc_id, pjsua_srv_pres *srv_pres,
                                  pjsua_buddy_id buddy_id, const pj_str_t *from,
                                  pjsip_rx_data *rdata, pjsip_status_code *code,
                                  pj_str_t *reason, pjsua_msg_data *msg_data);

/* call.c */
static void limit_text_streams(pjsua_call_setting *opt);

/* media_port.c */
static void pump_post_event(long token);

/* loop.c */
static void loop_backup_tick(unsigned *seen);

#endif
