/* C side of pjsua_ffi._pjsua: compiled into the cffi extension after pjsua.h.
 *
 * pjsua's callbacks carry pjsip structures that Python should never see (rx_data,
 * transactions, events). The shims below turn each callback into one flat
 * `pjffi_event` and hand it to a single Python entry point, `pjffi_py_event`.
 * Strings in an event point into pjsua's memory and are valid only during that call:
 * Python copies what it keeps. Events that need an answer (a status code, a reason,
 * "continue?") read it back from the event's out_* fields after Python returns.
 *
 * Locks. pjsua's order is: a dialog's lock (D) first, then PJSUA_LOCK (P); code that
 * holds P may only *try* D and must let go of P and retry if it fails (acquire_call()).
 * Our q_lock, backup_lock, poll_token and presence.c's registry are leaves: no pjsua
 * call is made while holding one, except pjsua_handle_events() under poll_token, which
 * no pjsua callback ever waits for. Every shim pjsua calls, the locks it may run under,
 * and the pjsua calls it makes (checked against pjproject 2.17; "sync" = calls Python
 * before it returns, with those locks held, "queued" = copies the event and returns):
 *
 *   shim                       runs under (thread)                 calls inside
 *   on_call_state              D of the call; +P from make_call    get_user_data (none),
 *                              and incoming-call failures (any)    get_info (P): D->P ok
 *   on_call_media_state        D (poller, or an API thread)        get_user_data, get_info
 *   on_incoming_call           P + the new call's D (poller)       set_user_data, get_info
 *   on_call_tsx_state          D (+ the transaction's lock)        get_user_data,
 *                                                                  pjsip_dlg_respond (D)
 *   on_dtmf_digit2             RFC 2833: the media thread, no      get_user_data only
 *                              pjsua lock; SIP INFO: D
 *   on_call_transfer_request2  D (poller)            sync         get_user_data
 *   on_call_transfer_status    D of the REFER's call (poller)      get_user_data
 *   on_call_replace_request2   D of the replaced call, then P      get_user_data
 *                              (poller; see build_pjsip.py,
 *                              fix replaces-lock-order)  sync
 *   on_call_replaced           P + both calls' D (poller)          get/set_user_data
 *   on_call_rx/tx_offer        D                                   none
 *   on_reg_state2              P (+ the regc's lock) (poller)      acc_get_info (P)
 *   on_incoming_subscribe      P + the new subscription's D        presence.c registry,
 *     (presence.c wrapper)     (poller)              sync         schedule_timer2
 *   on_srv_subscribe_state     D of the subscription, then P       registry only
 *   on_buddy_evsub_state       D of the buddy's subscription       reads the buddy
 *   on_buddy_state             D of the buddy's subscription       buddy_get_info
 *                                                                  (lock_buddy: tries)
 *   on_pager2 / on_typing2     none outside a call; D inside one   get_user_data
 *   on_pager_status2           the transaction's lock (+ D)        none
 *   on_mwi_info                D of the MWI subscription           none
 *   pjffi_log_writer           any thread, any lock                Python logging (no
 *                                                                  pjsua call)
 *   media_port.c ports         the bridge's clock (conference      none (ring buffers)
 *                              lock)
 *   presence.c timer           no lock (timer)                     D then P (srv_lock)
 *     send_pending_notify
 *
 * Shims called from Python that take pjsua's locks themselves: pjffi_pres_notify takes
 * D then P (srv_lock, try and retry); the registry and buddy helpers take P only and
 * lock no dialog. Two pjsua paths broke the order and are fixed at build time
 * (build_pjsip.py SOURCE_FIXES): an INVITE with Replaces (P, then the named D) and
 * account deletion with watchers (P, then each watcher's D); tests/test_lock_order.py
 * drives each. A sync shim runs Python with the locks above held: Python waits for
 * the library lock only for a bounded time (Lib._run_sync), and an API call from
 * another thread that needs one of those locks gets it after the callback returns
 * (or, in acquire_call(), fails after PJSUA_ACQUIRE_CALL_TIMEOUT).
 */
#include <pjsua-lib/pjsua.h>
#include <alsa/asoundlib.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>

#if PJ_VERSION_NUM < ((2 << 24) | (14 << 16))
#  error "pjsua-ffi needs pjproject 2.14 or newer"
#endif

#define PJFFI_HAS_TXT_STREAM (PJ_VERSION_NUM >= ((2 << 24) | (17 << 16)))

static const int PJFFI_VERSION_NUM = PJ_VERSION_NUM;
static const int PJFFI_HAS_TLS = PJ_HAS_SSL_SOCK;
static const int PJFFI_MAX_CALLS = PJSUA_MAX_CALLS;

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
    PJFFI_EV_LOG
};

#define PJFFI_NSTR 6

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
    volatile int kept;              /* 1: Python holds it past its batch; 2: the batch
                                     * let go; 3: Python let go (see free_events) */
} pjffi_event;

static void pjffi_py_event(pjffi_event *ev);
static void pjffi_py_log(int level, const char *data, int len);

static volatile int pjffi_events_on = 0;
static volatile int pjffi_log_on = 0;
static unsigned pjffi_txt_cnt = 0;

static void pjffi_enable_events(int on) { pjffi_events_on = on; }
static void pjffi_enable_log(int on) { pjffi_log_on = on; }
static void pjffi_set_txt_cnt(unsigned n) { pjffi_txt_cnt = n; }

/* ------------------------------------------------------------------ threads */

static __thread pj_thread_desc pjffi_thread_desc;
static __thread pj_thread_t *pjffi_thread;

/* Register the calling thread with pjlib if it is not yet: every entry point from
 * Python calls this first, since pjlib aborts on calls from unknown threads. */
static int pjffi_thread_register(const char *name)
{
    if (pj_thread_is_registered())
        return 0;
    pj_bzero(pjffi_thread_desc, sizeof(pjffi_thread_desc));
    return pj_thread_register(name, pjffi_thread_desc, &pjffi_thread);
}

/* ------------------------------------------------------------------ events */

static void ev_init(pjffi_event *ev, int kind)
{
    pj_bzero(ev, sizeof(*ev));
    ev->kind = kind;
    ev->call_id = PJSUA_INVALID_ID;
    ev->acc_id = PJSUA_INVALID_ID;
    ev->other_id = PJSUA_INVALID_ID;
}

static void ev_set(pj_str_t *dst, const pj_str_t *src)
{
    if (src && src->ptr) {
        dst->ptr = src->ptr;
        dst->slen = src->slen;
    }
}

static void ev_raw(pjffi_event *ev, pjsip_rx_data *rdata)
{
    if (rdata && rdata->msg_info.msg_buf) {
        ev->s[5].ptr = rdata->msg_info.msg_buf;
        ev->s[5].slen = rdata->msg_info.len;
    }
}

/* ------------------------------------------------------------------ event queue
 *
 * Most events are copied into a queue here and handed to Python by the callback thread
 * (pjffi_next_event), so pjsua's threads never wait for the GIL while they hold pjsua's
 * locks. A queued event owns copies of everything it points to: the info snapshots and
 * every string, in one allocation that the next batch call (or pjffi_free_event) releases.
 *
 * Events that need an answer before pjsua can continue (a REFER, an INVITE with
 * Replaces, an incoming SUBSCRIBE) still call Python at once.
 */
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct pjffi_qevent {
    pjffi_event ev;                 /* first: a pjffi_event* is the qevent* */
    struct pjffi_qevent *next;
    /* Then, in the same block, the info snapshots the event carries (and only those),
     * then its copied strings. */
} pjffi_qevent;

#define PJFFI_ALIGN(n) (((n) + 15) & ~(size_t)15)

#define PJFFI_QUEUE_MAX 200000

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static pjffi_qevent *q_head, *q_tail;
static unsigned q_len;
static unsigned long q_dropped;
static volatile unsigned long q_seq;   /* events queued so far */
static __thread unsigned long tl_seq;  /* the last of them queued by this thread */
static int q_wake;
static volatile long pjffi_token_counter;

/* A new nonzero token for a call's user data (shared with Python's make_call). */
static long pjffi_new_token(void)
{
    return __sync_add_and_fetch(&pjffi_token_counter, 1);
}

/* The poller: pjsua runs without worker threads of its own, and the thread that takes
 * events (the callback thread, or the application in handle_events) polls pjsua's SIP
 * ioqueue while it waits for them. Events raised while it polls are delivered as soon as
 * the poll returns, on the same thread and outside every pjsua lock: no thread hand-off
 * between pjsua and Python. An event queued by another thread (the application's own
 * calls, the media threads) wakes the poll with a datagram on a socket registered in
 * that ioqueue (a stale one costs a spurious wake-up, nothing else). q_lock guards
 * poll_blocked and wake_sent. */
static int poll_on;                        /* pjffi_poll_attach() succeeded */
static pthread_mutex_t poll_token = PTHREAD_MUTEX_INITIALIZER;   /* one poller at a time */
static volatile int py_busy;               /* the event taker is running Python */
static volatile unsigned busy_seq;         /* counts the taker's busy periods */
static pthread_mutex_t backup_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t backup_cond = PTHREAD_COND_INITIALIZER;
static int backup_quit, backup_started;
static pthread_t backup_thread;
static int poll_blocked;                   /* a thread is inside pjsua_handle_events() */
static int loop_mode;                      /* an event loop polls (loop.c) */
static int wake_sent;                      /* a wake datagram is on its way */
static pthread_t poll_thread;
static int wake_fd[2] = {-1, -1};
static pj_pool_t *wake_pool;
static pj_ioqueue_key_t *wake_key;
static pj_ioqueue_op_key_t wake_op;
static char wake_buf[16];

static void wake_rearm(pj_ioqueue_key_t *key)
{
    pj_ssize_t len;
    pj_status_t st;
    int guard = 0;
    do {   /* read what is there; stop once a read is pending */
        len = sizeof(wake_buf);
        st = pj_ioqueue_recv(key, &wake_op, wake_buf, &len, 0);
    } while (st == PJ_SUCCESS && ++guard < 64);
}

static void on_wake_read(pj_ioqueue_key_t *key, pj_ioqueue_op_key_t *op, pj_ssize_t n)
{
    PJ_UNUSED_ARG(op);
    PJ_UNUSED_ARG(n);
    wake_rearm(key);   /* wake_sent is cleared by the poller once its poll returns */
}

/* Called with q_lock held: make a poll in progress return (not from the poller). */
static int wake_poller_locked(void)
{
    if (loop_mode) {
        /* An event loop waits in its own selector on pjsua's epoll fd: wake it unless
         * it is polling on this very thread (it then looks at the queue next). */
        if (wake_sent || (poll_blocked && pthread_equal(pthread_self(), poll_thread)))
            return 0;
        wake_sent = 1;
        return 1;
    }
    if (!poll_blocked || wake_sent || pthread_equal(pthread_self(), poll_thread))
        return 0;
    wake_sent = 1;
    return 1;
}

static void send_wake(void)
{
    ssize_t r = send(wake_fd[1], "w", 1, MSG_DONTWAIT);
    (void)r;   /* a full socket already holds a wake-up */
}

/* While Python runs callbacks nobody polls pjsua. The backup poller notices a busy
 * period that lasts a whole tick (20 to 40 ms: a slow or blocked callback) and polls
 * until it ends, so SIP goes on. It only wakes once a tick: nothing on the hot path. */
#define PJFFI_BACKUP_TICK_MS 20

static void pjffi_deadline(struct timespec *ts, int timeout_ms);

/* After a burst, pjsip frees what its transactions held once their timers expire (up
 * to 32 s later), but malloc keeps the pages: give them back to the system once the
 * number of pools in use has fallen well below what it was at the last trim (a pool
 * holds at least one message buffer, PJSIP_MAX_PKT_LEN bytes). */
#ifdef __GLIBC__
#include <malloc.h>
#define PJFFI_TRIM_DROP 2000
static void trim_after_burst(unsigned *ticks)
{
    static unsigned high_water;
    pj_caching_pool *cp = (pj_caching_pool*)pjsua_get_pool_factory();
    unsigned used;
    if (!cp || ++*ticks % 50)   /* about once a second */
        return;
    used = (unsigned)cp->used_count;
    if (used > high_water) {
        high_water = used;
    } else if (high_water - used >= PJFFI_TRIM_DROP) {
        malloc_trim(0);
        high_water = used;
    }
}
#else
static void trim_after_burst(unsigned *ticks) { PJ_UNUSED_ARG(ticks); }
#endif

static void loop_backup_tick(unsigned *seen);   /* loop.c */

static void *backup_main(void *arg)
{
    unsigned seen = 0, ticks = 0;
    PJ_UNUSED_ARG(arg);
    pjffi_thread_register("pjffi-backup");
    pthread_mutex_lock(&backup_lock);
    while (!backup_quit) {
        struct timespec until;
        pjffi_deadline(&until, PJFFI_BACKUP_TICK_MS);
        pthread_cond_timedwait(&backup_cond, &backup_lock, &until);
        if (backup_quit)
            break;
        trim_after_burst(&ticks);
        if (loop_mode) {
            pthread_mutex_unlock(&backup_lock);
            loop_backup_tick(&seen);
            pthread_mutex_lock(&backup_lock);
            continue;
        }
        if (!py_busy || busy_seq != seen) {
            seen = busy_seq;
            continue;
        }
        pthread_mutex_unlock(&backup_lock);
        while (py_busy && busy_seq == seen && !backup_quit) {
            pthread_mutex_lock(&poll_token);
            if (py_busy && busy_seq == seen)
                pjsua_handle_events(10);
            pthread_mutex_unlock(&poll_token);
        }
        pthread_mutex_lock(&backup_lock);
    }
    pthread_mutex_unlock(&backup_lock);
    return NULL;
}

/* Start polling pjsua from the thread that waits for events (after pjsua_init). */
static int pjffi_poll_attach(void)
{
    pj_ioqueue_callback cb;
    pj_status_t st;
    if (poll_on)
        return 0;
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, wake_fd) != 0)
        return PJ_RETURN_OS_ERROR(errno);
    wake_pool = pjsua_pool_create("pjffi-wake", 256, 256);
    pj_bzero(&cb, sizeof(cb));
    cb.on_read_complete = &on_wake_read;
    pj_ioqueue_op_key_init(&wake_op, sizeof(wake_op));
    st = pj_ioqueue_register_sock(wake_pool, pjsip_endpt_get_ioqueue(pjsua_get_pjsip_endpt()),
                                  wake_fd[0], NULL, &cb, &wake_key);
    if (st != PJ_SUCCESS) {
        close(wake_fd[0]);
        close(wake_fd[1]);
        wake_fd[0] = wake_fd[1] = -1;
        pj_pool_release(wake_pool);
        wake_pool = NULL;
        return st;
    }
    wake_rearm(wake_key);
    pthread_mutex_lock(&q_lock);
    poll_on = 1;
    wake_sent = 0;
    pthread_mutex_unlock(&q_lock);
    backup_quit = 0;
    py_busy = 0;
    backup_started = pthread_create(&backup_thread, NULL, &backup_main, NULL) == 0;
    return 0;
}

/* Stop polling (before pjsua_destroy(), once no thread waits for events). */
static void pjffi_poll_detach(void)
{
    pthread_mutex_lock(&q_lock);
    if (!poll_on) {
        pthread_mutex_unlock(&q_lock);
        return;
    }
    poll_on = 0;
    pthread_mutex_unlock(&q_lock);
    if (backup_started) {
        pthread_mutex_lock(&backup_lock);
        backup_quit = 1;
        pthread_cond_signal(&backup_cond);
        pthread_mutex_unlock(&backup_lock);
        pthread_join(backup_thread, NULL);
        backup_started = 0;
    }
    py_busy = 0;
    pj_ioqueue_unregister(wake_key);   /* closes wake_fd[0] */
    close(wake_fd[1]);
    wake_fd[0] = wake_fd[1] = -1;
    wake_key = NULL;
    pj_pool_release(wake_pool);
    wake_pool = NULL;
}

static int is_sync_event(int kind)
{
    return kind == PJFFI_EV_TRANSFER_REQUEST || kind == PJFFI_EV_REPLACE_REQUEST ||
           kind == PJFFI_EV_INCOMING_SUBSCRIBE;
}

static pj_size_t str_room(const pj_str_t *s)
{
    return (s->ptr && s->slen > 0) ? (pj_size_t)s->slen + 1 : 0;
}

static void str_move(pj_str_t *s, char **arena)
{
    if (s->ptr && s->slen > 0) {
        pj_memcpy(*arena, s->ptr, s->slen);
        (*arena)[s->slen] = '\0';
        s->ptr = *arena;
        *arena += s->slen + 1;
    } else {
        s->ptr = NULL;
        s->slen = 0;
    }
}

/* The strings inside each info snapshot, by offset: a queued event copies them too. */
static const size_t CALL_STRS[] = {
    offsetof(pjsua_call_info, local_info), offsetof(pjsua_call_info, local_contact),
    offsetof(pjsua_call_info, remote_info), offsetof(pjsua_call_info, remote_contact),
    offsetof(pjsua_call_info, call_id), offsetof(pjsua_call_info, state_text),
    offsetof(pjsua_call_info, last_status_text)};
static const size_t ACC_STRS[] = {
    offsetof(pjsua_acc_info, acc_uri), offsetof(pjsua_acc_info, status_text),
    offsetof(pjsua_acc_info, online_status_text), offsetof(pjsua_acc_info, rpid.id),
    offsetof(pjsua_acc_info, rpid.note)};
static const size_t BUDDY_STRS[] = {
    offsetof(pjsua_buddy_info, uri), offsetof(pjsua_buddy_info, contact),
    offsetof(pjsua_buddy_info, status_text), offsetof(pjsua_buddy_info, sub_term_reason),
    offsetof(pjsua_buddy_info, rpid.id), offsetof(pjsua_buddy_info, rpid.note)};

#define PJFFI_STR_AT(info, off) ((pj_str_t*)((char*)(info) + (off)))

typedef struct info_part {
    void **field;          /* the event's pointer to this snapshot (NULL: none) */
    size_t size;
    const size_t *strs;
    unsigned nstrs;
    size_t off;            /* where the copy goes in the block */
} info_part;

static pjffi_qevent *copy_event(const pjffi_event *ev)
{
    pj_str_t *strs[PJFFI_NSTR + PJ_ARRAY_SIZE(CALL_STRS) + PJ_ARRAY_SIZE(ACC_STRS) +
                   PJ_ARRAY_SIZE(BUDDY_STRS)];
    info_part parts[3];
    const void *src[3] = {ev->call_info, ev->acc_info, ev->buddy_info};
    unsigned n = 0, i, k;
    size_t size = PJFFI_ALIGN(sizeof(pjffi_qevent)), room = 0;
    pjffi_qevent *q;
    char *base, *arena;

    parts[0].size = sizeof(pjsua_call_info);
    parts[0].strs = CALL_STRS;
    parts[0].nstrs = PJ_ARRAY_SIZE(CALL_STRS);
    parts[1].size = sizeof(pjsua_acc_info);
    parts[1].strs = ACC_STRS;
    parts[1].nstrs = PJ_ARRAY_SIZE(ACC_STRS);
    parts[2].size = sizeof(pjsua_buddy_info);
    parts[2].strs = BUDDY_STRS;
    parts[2].nstrs = PJ_ARRAY_SIZE(BUDDY_STRS);

    /* One block: the event, the snapshots it carries (only those), then every string. */
    for (i = 0; i < PJFFI_NSTR; ++i)
        room += str_room(&ev->s[i]);
    for (k = 0; k < 3; ++k) {
        if (!src[k])
            continue;
        parts[k].off = size;
        size += PJFFI_ALIGN(parts[k].size);
        for (i = 0; i < parts[k].nstrs; ++i)
            room += str_room(PJFFI_STR_AT(src[k], parts[k].strs[i]));
    }
    base = (char*)malloc(size + room);
    if (!base)
        return NULL;
    q = (pjffi_qevent*)base;
    q->ev = *ev;
    q->next = NULL;
    parts[0].field = (void**)&q->ev.call_info;
    parts[1].field = (void**)&q->ev.acc_info;
    parts[2].field = (void**)&q->ev.buddy_info;
    for (i = 0; i < PJFFI_NSTR; ++i)
        strs[n++] = &q->ev.s[i];
    for (k = 0; k < 3; ++k) {
        char *copy;
        if (!src[k])
            continue;
        copy = base + parts[k].off;
        pj_memcpy(copy, src[k], parts[k].size);
        *parts[k].field = copy;
        for (i = 0; i < parts[k].nstrs; ++i)
            strs[n++] = PJFFI_STR_AT(copy, parts[k].strs[i]);
    }
    arena = base + size;
    for (i = 0; i < n; ++i)
        str_move(strs[i], &arena);   /* the copies still point at pjsua's strings */
    return q;
}

static void deliver(pjffi_event *ev)
{
    pjffi_qevent *q;
    int wake;
    if (!pjffi_events_on && ev->kind != PJFFI_EV_LOG)  /* destroy's lines still go */
        return;
    if (is_sync_event(ev->kind)) {
        pjffi_py_event(ev);
        return;
    }
    q = copy_event(ev);
    if (!q)
        return;
    pthread_mutex_lock(&q_lock);
    if (q_len >= PJFFI_QUEUE_MAX) {
        q_dropped++;
        pthread_mutex_unlock(&q_lock);
        free(q);
        return;
    }
    if (q_tail)
        q_tail->next = q;
    else
        q_head = q;
    q_tail = q;
    q_len++;
    tl_seq = ++q_seq;
    pthread_cond_signal(&q_cond);
    wake = wake_poller_locked();
    pthread_mutex_unlock(&q_lock);
    if (wake)
        send_wake();
}

/* The CLOCK_REALTIME time timeout_ms from now, for pthread_cond_timedwait(). */
static void pjffi_deadline(struct timespec *ts, int timeout_ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += timeout_ms / 1000;
    ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* With q_lock held: poll pjsua until an event is queued, pjffi_wake() is called or
 * timeout_ms passes (negative: no limit; 0: poll once without waiting). */
static void poll_until_event(int timeout_ms)
{
    double end = timeout_ms > 0 ? mono_ms() + timeout_ms : 0;
    int wait_ms = timeout_ms < 0 ? 1000 : timeout_ms;
    poll_thread = pthread_self();
    while (!q_head && !q_wake && poll_on) {
        if (timeout_ms > 0) {
            double left = end - mono_ms();
            if (left <= 0)
                break;
            wait_ms = left > 1000 ? 1000 : (int)left + (left > (int)left);
        }
        poll_blocked = 1;
        pthread_mutex_unlock(&q_lock);
        pthread_mutex_lock(&poll_token);
        pjsua_handle_events((unsigned)wait_ms);
        pthread_mutex_unlock(&poll_token);
        pthread_mutex_lock(&q_lock);
        poll_blocked = 0;
        wake_sent = 0;   /* awake now: it looks at the queue before it polls again */
        if (timeout_ms == 0)
            break;
    }
}

/* The next queued event, waiting up to timeout_ms (negative: forever) for one, and
 * polling pjsua meanwhile once pjffi_poll_attach() was called. NULL on time-out or
 * after pjffi_wake(). The next batch call releases it. */
static pjffi_event *pjffi_next_event(int timeout_ms)
{
    pjffi_qevent *q;
    py_busy = 0;
    pthread_mutex_lock(&q_lock);
    if (loop_mode && timeout_ms == 0 && poll_on) {
        /* An event loop's step: poll once even with events queued, so that the wake
         * datagram that made the loop call us is read now, not on another step. */
        poll_thread = pthread_self();
        poll_blocked = 1;
        pthread_mutex_unlock(&q_lock);
        pthread_mutex_lock(&poll_token);
        pjsua_handle_events(0);
        pthread_mutex_unlock(&poll_token);
        pthread_mutex_lock(&q_lock);
        poll_blocked = 0;
        wake_sent = 0;
    } else if (poll_on && !q_head && !q_wake) {
        poll_until_event(timeout_ms);
    } else if (!q_head && !q_wake && timeout_ms != 0) {
        if (timeout_ms < 0) {
            while (!q_head && !q_wake)
                pthread_cond_wait(&q_cond, &q_lock);
        } else {
            struct timespec until;
            pjffi_deadline(&until, timeout_ms);
            while (!q_head && !q_wake) {
                if (pthread_cond_timedwait(&q_cond, &q_lock, &until) != 0)
                    break;
            }
        }
    }
    q_wake = 0;
    q = q_head;
    if (q) {
        q_head = q->next;
        if (!q_head)
            q_tail = NULL;
        q_len--;
    }
    pthread_mutex_unlock(&q_lock);
    busy_seq++;         /* back to Python: a new busy period for the backup poller */
    py_busy = 1;
    return q ? &q->ev : NULL;
}

static void free_events(pjffi_event **evs, int n)
{
    int i;
    for (i = 0; i < n; ++i) {
        pjffi_event *ev = evs[i];
        /* A kept event is freed by whichever of its batch and its Python owner lets go
         * of it last (they may be on different threads). */
        if (ev && !(ev->kept && __sync_bool_compare_and_swap(&ev->kept, 1, 2)))
            free((pjffi_qevent*)ev);
        evs[i] = NULL;
    }
}

/* Free the previous batch (its first nfree entries), then take up to max queued events
 * at once without waiting or polling. */
static int pjffi_take_events(pjffi_event **out, int max, int nfree)
{
    int n = 0;
    pjffi_qevent *q;
    free_events(out, nfree);
    pthread_mutex_lock(&q_lock);
    while (n < max && (q = q_head) != NULL) {
        q_head = q->next;
        if (!q_head)
            q_tail = NULL;
        q_len--;
        out[n++] = &q->ev;
    }
    pthread_mutex_unlock(&q_lock);
    return n;
}

/* Free the previous batch (its first nfree entries), then take up to max queued events,
 * waiting as pjffi_next_event does for the first: one call into C, so one release of
 * the GIL, per batch. Returns how many. */
static int pjffi_next_events(pjffi_event **out, int max, int timeout_ms, int nfree)
{
    free_events(out, nfree);
    if (max <= 0)
        return 0;
    out[0] = pjffi_next_event(timeout_ms);
    if (!out[0])
        return 0;
    return 1 + pjffi_take_events(out + 1, max - 1, 0);
}

/* Release one event that Python kept past its batch (an info snapshot points into it). */
static void pjffi_free_event(pjffi_event *ev)
{
    if (!__sync_bool_compare_and_swap(&ev->kept, 1, 3))
        free((pjffi_qevent*)ev);   /* its batch was freed already */
}

/* Make a waiting pjffi_next_event() return (with or without an event). */
static void pjffi_wake(void)
{
    int wake;
    pthread_mutex_lock(&q_lock);
    q_wake = 1;
    pthread_cond_broadcast(&q_cond);
    wake = wake_poller_locked();
    pthread_mutex_unlock(&q_lock);
    if (wake)
        send_wake();
}

/* How many events have been queued so far (see Lib._wait_delivered). */
static unsigned long pjffi_event_seq(void)
{
    unsigned long seq;
    pthread_mutex_lock(&q_lock);
    seq = q_seq;
    pthread_mutex_unlock(&q_lock);
    return seq;
}

/* Drop every queued event; returns how many were dropped. */
/* The number of the last event this thread queued (0: none yet). */
static unsigned long pjffi_my_last_seq(void) { return tl_seq; }

static unsigned pjffi_queue_clear(void)
{
    unsigned n = 0;
    pjffi_qevent *q;
    pthread_mutex_lock(&q_lock);
    q = q_head;
    q_head = q_tail = NULL;
    q_len = 0;
    q_wake = 0;
    pthread_mutex_unlock(&q_lock);
    while (q) {
        pjffi_qevent *next = q->next;
        free(q);
        q = next;
        n++;
    }
    return n;
}

static unsigned long pjffi_queue_dropped(void)
{
    return q_dropped;
}

static void on_call_state(pjsua_call_id call_id, pjsip_event *e)
{
    pjffi_event ev;
    pjsua_call_info ci;
    PJ_UNUSED_ARG(e);
    ev_init(&ev, PJFFI_EV_CALL_STATE);
    ev.call_id = call_id;
    ev.user_data = pjsua_call_get_user_data(call_id);
    if (pjsua_call_get_info(call_id, &ci) == PJ_SUCCESS)
        ev.call_info = &ci;
    deliver(&ev);
}

static void on_call_media_state(pjsua_call_id call_id)
{
    pjffi_event ev;
    pjsua_call_info ci;
    ev_init(&ev, PJFFI_EV_CALL_MEDIA_STATE);
    ev.call_id = call_id;
    ev.user_data = pjsua_call_get_user_data(call_id);
    if (pjsua_call_get_info(call_id, &ci) == PJ_SUCCESS)
        ev.call_info = &ci;
    deliver(&ev);
}

static void on_incoming_call(pjsua_acc_id acc_id, pjsua_call_id call_id, pjsip_rx_data *rdata)
{
    pjffi_event ev;
    pjsua_call_info ci;
    char src[PJ_INET6_ADDRSTRLEN + 16];
    ev_init(&ev, PJFFI_EV_INCOMING_CALL);
    ev.call_id = call_id;
    ev.acc_id = acc_id;
    ev.user_data = (void*)pjffi_new_token();
    pjsua_call_set_user_data(call_id, ev.user_data);
    if (pjsua_call_get_info(call_id, &ci) == PJ_SUCCESS)
        ev.call_info = &ci;
    ev_raw(&ev, rdata);
    if (rdata) {
        pj_ansi_snprintf(src, sizeof(src), "%s:%d", rdata->pkt_info.src_name,
                         rdata->pkt_info.src_port);
        ev.s[4] = pj_str(src);
        ev.s[3] = pj_str(pjsip_rx_data_get_info(rdata));  /* pjsip's one-line summary */
    }
    deliver(&ev);
}

static void on_dtmf_digit2(pjsua_call_id call_id, const pjsua_dtmf_info *info)
{
    pjffi_event ev;
    /* RFC 2833 digits only, as the legacy module's on_dtmf_digit: pjsua answers an INFO
     * with a dtmf-relay body itself, and legacy programs never saw its digit. */
    if (info->method != PJSUA_DTMF_METHOD_RFC2833)
        return;
    ev_init(&ev, PJFFI_EV_DTMF);
    ev.call_id = call_id;
    ev.user_data = pjsua_call_get_user_data(call_id);
    ev.code = info->digit;
    ev.flag = info->method;
    deliver(&ev);
}

static void limit_text_streams(pjsua_call_setting *opt)
{
#if PJFFI_HAS_TXT_STREAM
    if (opt && opt->txt_cnt > pjffi_txt_cnt)
        opt->txt_cnt = pjffi_txt_cnt;
#else
    PJ_UNUSED_ARG(opt);
#endif
}

static void on_call_transfer_request2(pjsua_call_id call_id, const pj_str_t *dst,
                                      pjsip_status_code *code, pjsua_call_setting *opt)
{
    pjffi_event ev;
    limit_text_streams(opt);
    ev_init(&ev, PJFFI_EV_TRANSFER_REQUEST);
    ev.call_id = call_id;
    ev.user_data = pjsua_call_get_user_data(call_id);
    ev_set(&ev.s[0], dst);
    ev.code = ev.out_code = *code;
    deliver(&ev);
    *code = (pjsip_status_code)ev.out_code;
}

static void on_call_transfer_status(pjsua_call_id call_id, int st_code, const pj_str_t *st_text,
                                    pj_bool_t final, pj_bool_t *p_cont)
{
    pjffi_event ev;
    ev_init(&ev, PJFFI_EV_TRANSFER_STATUS);
    ev.call_id = call_id;
    ev.user_data = pjsua_call_get_user_data(call_id);
    ev.code = st_code;
    ev_set(&ev.s[0], st_text);
    ev.flag = final;
    ev.other_id = *p_cont ? 1 : 0;  /* pjsua's suggestion, the callback's `cont` */
    ev.out_flag = 1;
    deliver(&ev);
    *p_cont = ev.out_flag ? PJ_TRUE : PJ_FALSE;
}

/* Answers that pjsua reads after the callback returns must outlive it. */
static __thread char pjffi_reason_buf[256];

static void on_call_replace_request2(pjsua_call_id call_id, pjsip_rx_data *rdata, int *st_code,
                                     pj_str_t *st_text, pjsua_call_setting *opt)
{
    pjffi_event ev;
    limit_text_streams(opt);
    ev_init(&ev, PJFFI_EV_REPLACE_REQUEST);
    ev.call_id = call_id;
    ev.user_data = pjsua_call_get_user_data(call_id);
    ev.code = ev.out_code = *st_code;
    ev_set(&ev.s[0], st_text);
    ev_raw(&ev, rdata);
    deliver(&ev);
    *st_code = ev.out_code;
    if (ev.out_reason[0]) {
        pj_ansi_strxcpy(pjffi_reason_buf, ev.out_reason, sizeof(pjffi_reason_buf));
        *st_text = pj_str(pjffi_reason_buf);
    }
}

static void on_call_replaced(pjsua_call_id old_call_id, pjsua_call_id new_call_id)
{
    pjffi_event ev;
    ev_init(&ev, PJFFI_EV_CALL_REPLACED);
    ev.call_id = old_call_id;
    ev.user_data = pjsua_call_get_user_data(old_call_id);
    ev.other_id = new_call_id;
    /* The replacing call is new to us: it gets its token here, before its events
     * (pjsua gave it the replaced call's user data). */
    pjsua_call_set_user_data(new_call_id, (void*)pjffi_new_token());
    ev.obj = pjsua_call_get_user_data(new_call_id);
    deliver(&ev);
}

static void on_call_rx_offer(pjsua_call_id call_id, const pjmedia_sdp_session *offer,
                             void *reserved, pjsip_status_code *code, pjsua_call_setting *opt)
{
    PJ_UNUSED_ARG(call_id); PJ_UNUSED_ARG(offer); PJ_UNUSED_ARG(reserved); PJ_UNUSED_ARG(code);
    limit_text_streams(opt);
}

static void on_call_tx_offer(pjsua_call_id call_id, void *reserved, pjsua_call_setting *opt)
{
    PJ_UNUSED_ARG(call_id); PJ_UNUSED_ARG(reserved);
    limit_text_streams(opt);
}

static void on_call_tsx_state(pjsua_call_id call_id, pjsip_transaction *tsx, pjsip_event *e)
{
    static const pj_str_t dtmf_relay = {"dtmf-relay", 10};
    static const pj_str_t trickle = {"trickle-ice-sdpfrag", 19};
    static const pjsip_method update_method = {PJSIP_OTHER_METHOD, {"UPDATE", 6}};
    pjsip_rx_data *rdata;
    pjsip_method_e id = tsx->method.id;
    pjffi_event ev;
    pjsip_dialog *dlg;

    if (tsx->role != PJSIP_ROLE_UAS || tsx->state != PJSIP_TSX_STATE_TRYING ||
        e->body.tsx_state.type != PJSIP_EVENT_RX_MSG)
        return;
    /* pjsua answers these itself. */
    if (id == PJSIP_INVITE_METHOD || id == PJSIP_ACK_METHOD || id == PJSIP_BYE_METHOD ||
        id == PJSIP_CANCEL_METHOD)
        return;
    if (pjsip_method_cmp(&tsx->method, pjsip_get_refer_method()) == 0 ||
        pjsip_method_cmp(&tsx->method, &pjsip_message_method) == 0 ||
        pjsip_method_cmp(&tsx->method, pjsip_get_notify_method()) == 0 ||
        pjsip_method_cmp(&tsx->method, pjsip_get_prack_method()) == 0 ||
        pjsip_method_cmp(&tsx->method, &update_method) == 0)
        return;
    rdata = e->body.tsx_state.src.rdata;
    if (pjsip_method_cmp(&tsx->method, &pjsip_info_method) == 0 && rdata->msg_info.ctype &&
        (pj_stricmp(&rdata->msg_info.ctype->media.subtype, &dtmf_relay) == 0 ||
         pj_stricmp(&rdata->msg_info.ctype->media.subtype, &trickle) == 0))
        return;

    ev_init(&ev, PJFFI_EV_CALL_REQUEST);
    ev.call_id = call_id;
    ev.user_data = pjsua_call_get_user_data(call_id);
    ev_set(&ev.s[0], &tsx->method.name);
    ev_raw(&ev, rdata);
    ev.out_code = 200;
    deliver(&ev);
    dlg = pjsip_tsx_get_dlg(tsx);
    if (dlg && tsx->state == PJSIP_TSX_STATE_TRYING)
        pjsip_dlg_respond(dlg, rdata, ev.out_code, NULL, NULL, NULL);
}

static void on_reg_state2(pjsua_acc_id acc_id, pjsua_reg_info *info)
{
    pjffi_event ev;
    pjsua_acc_info ai;
    ev_init(&ev, PJFFI_EV_REG_STATE);
    ev.acc_id = acc_id;
    if (info && info->cbparam) {
        ev.code = info->cbparam->code;
        ev_set(&ev.s[0], &info->cbparam->reason);
    }
    if (pjsua_acc_get_info(acc_id, &ai) == PJ_SUCCESS)
        ev.acc_info = &ai;
    deliver(&ev);
}

static void set_contact(pjffi_event *ev, pjsip_rx_data *rdata, char *buf, int size)
{
    pjsip_contact_hdr *h;
    int len;
    if (!rdata || !rdata->msg_info.msg)
        return;
    h = (pjsip_contact_hdr*)pjsip_msg_find_hdr(rdata->msg_info.msg, PJSIP_H_CONTACT, NULL);
    if (!h || !h->uri)
        return;
    len = pjsip_uri_print(PJSIP_URI_IN_CONTACT_HDR, h->uri, buf, size);
    if (len > 0) {
        ev->s[1].ptr = buf;
        ev->s[1].slen = len;
    }
}

static void on_incoming_subscribe(pjsua_acc_id acc_id, pjsua_srv_pres *srv_pres,
                                  pjsua_buddy_id buddy_id, const pj_str_t *from,
                                  pjsip_rx_data *rdata, pjsip_status_code *code,
                                  pj_str_t *reason, pjsua_msg_data *msg_data)
{
    pjffi_event ev;
    char contact[PJSIP_MAX_URL_SIZE];
    PJ_UNUSED_ARG(msg_data);
    ev_init(&ev, PJFFI_EV_INCOMING_SUBSCRIBE);
    ev.acc_id = acc_id;
    ev.obj = srv_pres;
    ev.other_id = buddy_id;
    ev_set(&ev.s[0], from);
    set_contact(&ev, rdata, contact, sizeof(contact));
    ev_raw(&ev, rdata);
    ev.code = ev.out_code = *code;
    deliver(&ev);
    *code = (pjsip_status_code)ev.out_code;
    if (ev.out_reason[0]) {
        pj_ansi_strxcpy(pjffi_reason_buf, ev.out_reason, sizeof(pjffi_reason_buf));
        *reason = pj_str(pjffi_reason_buf);
    }
}

static void on_buddy_state(pjsua_buddy_id buddy_id)
{
    pjffi_event ev;
    pjsua_buddy_info bi;
    ev_init(&ev, PJFFI_EV_BUDDY_STATE);
    ev.other_id = buddy_id;
    ev.user_data = pjsua_buddy_get_user_data(buddy_id);
    if (pjsua_buddy_get_info(buddy_id, &bi) == PJ_SUCCESS) {
        ev.buddy_info = &bi;
        ev.acc_id = bi.acc_id;
    }
    deliver(&ev);
}

static void on_pager2(pjsua_call_id call_id, const pj_str_t *from, const pj_str_t *to,
                      const pj_str_t *contact, const pj_str_t *mime_type, const pj_str_t *body,
                      pjsip_rx_data *rdata, pjsua_acc_id acc_id)
{
    pjffi_event ev;
    ev_init(&ev, PJFFI_EV_PAGER);
    ev.call_id = call_id;
    ev.acc_id = acc_id;
    if (call_id != PJSUA_INVALID_ID)
        ev.user_data = pjsua_call_get_user_data(call_id);
    ev_set(&ev.s[0], from);
    ev_set(&ev.s[1], to);
    ev_set(&ev.s[2], contact);
    ev_set(&ev.s[3], mime_type);
    ev_set(&ev.s[4], body);
    ev_raw(&ev, rdata);
    deliver(&ev);
}

static void on_pager_status2(pjsua_call_id call_id, const pj_str_t *to, const pj_str_t *body,
                             void *user_data, pjsip_status_code status, const pj_str_t *reason,
                             pjsip_tx_data *tdata, pjsip_rx_data *rdata, pjsua_acc_id acc_id)
{
    pjffi_event ev;
    PJ_UNUSED_ARG(tdata);
    ev_init(&ev, PJFFI_EV_PAGER_STATUS);
    ev.call_id = call_id;
    ev.acc_id = acc_id;
    ev.user_data = user_data;
    ev.code = status;
    ev_set(&ev.s[0], to);
    ev_set(&ev.s[1], body);
    ev_set(&ev.s[2], reason);
    ev_raw(&ev, rdata);
    deliver(&ev);
}

static void on_typing2(pjsua_call_id call_id, const pj_str_t *from, const pj_str_t *to,
                       const pj_str_t *contact, pj_bool_t is_typing, pjsip_rx_data *rdata,
                       pjsua_acc_id acc_id)
{
    pjffi_event ev;
    ev_init(&ev, PJFFI_EV_TYPING);
    ev.call_id = call_id;
    ev.acc_id = acc_id;
    if (call_id != PJSUA_INVALID_ID)
        ev.user_data = pjsua_call_get_user_data(call_id);
    ev.flag = is_typing;
    ev_set(&ev.s[0], from);
    ev_set(&ev.s[1], to);
    ev_set(&ev.s[2], contact);
    ev_raw(&ev, rdata);
    deliver(&ev);
}

static void on_mwi_info(pjsua_acc_id acc_id, pjsua_mwi_info *mwi_info)
{
    pjffi_event ev;
    pjsip_msg_body *body = NULL;
    char ctype[128];
    ev_init(&ev, PJFFI_EV_MWI_INFO);
    ev.acc_id = acc_id;
    if (mwi_info && mwi_info->rdata && mwi_info->rdata->msg_info.msg)
        body = mwi_info->rdata->msg_info.msg->body;
    if (body && body->data) {
        int n;
        ev.s[0].ptr = (char*)body->data;
        ev.s[0].slen = body->len;
        n = pj_ansi_snprintf(ctype, sizeof(ctype), "%.*s/%.*s",
                             (int)body->content_type.type.slen, body->content_type.type.ptr,
                             (int)body->content_type.subtype.slen, body->content_type.subtype.ptr);
        if (n > 0 && n < (int)sizeof(ctype))
            ev.s[1] = pj_str(ctype);
    }
    if (mwi_info)
        ev_raw(&ev, mwi_info->rdata);
    deliver(&ev);
}

/* Lines up to this level also go to the application's log callback (LogConfig.callback),
 * through the event queue: in order with the events around them, as the legacy module
 * calls it from inside pjsua. -1: no callback. */
static volatile int pjffi_log_cb_level = -1;

static void pjffi_set_log_cb_level(int level) { pjffi_log_cb_level = level; }

static void pjffi_log_writer(int level, const char *data, int len)
{
    if (!pjffi_log_on)
        return;
    pjffi_py_log(level, data, len);
    if (level <= pjffi_log_cb_level && pjffi_events_on && len > 0) {
        pjffi_event ev;
        ev_init(&ev, PJFFI_EV_LOG);
        ev.code = level;
        ev.s[0].ptr = (char*)data;
        ev.s[0].slen = len;
        deliver(&ev);
    }
}

/* ALSA and JACK print to stderr when there is no sound card or server. Their
 * messages go to our log instead, at trace level (6), so quiet logging stays quiet. */
static void quiet_alsa(const char *file, int line, const char *function, int err,
                       const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    int n;
    PJ_UNUSED_ARG(file); PJ_UNUSED_ARG(line); PJ_UNUSED_ARG(function); PJ_UNUSED_ARG(err);
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0 && pjffi_log_on)
        pjffi_py_log(6, buf, n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1);
}

static void quiet_jack(const char *msg)
{
    if (msg && pjffi_log_on)
        pjffi_py_log(6, msg, (int)strlen(msg));
}

static void pjffi_quiet_audio_backends(void)
{
    typedef void (*set_fn)(void (*)(const char *));
    set_fn f;
    snd_lib_error_set_handler(&quiet_alsa);
    f = (set_fn)dlsym(RTLD_DEFAULT, "jack_set_error_function");
    if (f)
        f(&quiet_jack);
    f = (set_fn)dlsym(RTLD_DEFAULT, "jack_set_info_function");
    if (f)
        f(&quiet_jack);
}

/* Send pjlib's lines to Python from the very start (pjsua_create logs too). */
static void pjffi_install_early_log(int level)
{
    pj_log_set_log_func(&pjffi_log_writer);
    pj_log_set_level(level);
}

/* Point pjsua's callbacks at the shims above. */
static void pjffi_install_callbacks(pjsua_config *cfg, pjsua_logging_config *log_cfg)
{
    pjsua_callback *cb = &cfg->cb;
    cb->on_call_state = &on_call_state;
    cb->on_incoming_call = &on_incoming_call;
    cb->on_call_media_state = &on_call_media_state;
    cb->on_call_tsx_state = &on_call_tsx_state;
    cb->on_dtmf_digit2 = &on_dtmf_digit2;
    cb->on_call_transfer_request2 = &on_call_transfer_request2;
    cb->on_call_transfer_status = &on_call_transfer_status;
    cb->on_call_replace_request2 = &on_call_replace_request2;
    cb->on_call_replaced = &on_call_replaced;
    cb->on_call_rx_offer = &on_call_rx_offer;
    cb->on_call_tx_offer = &on_call_tx_offer;
    cb->on_reg_state2 = &on_reg_state2;
    cb->on_incoming_subscribe = &on_incoming_subscribe;
    cb->on_buddy_state = &on_buddy_state;
    cb->on_pager2 = &on_pager2;
    cb->on_pager_status2 = &on_pager_status2;
    cb->on_typing2 = &on_typing2;
    cb->on_mwi_info = &on_mwi_info;
    log_cfg->cb = &pjffi_log_writer;
}

/* ------------------------------------------------------------------ call settings */

/* pjsua's defaults with our media choice: audio only, and text (RFC 4103) only when
 * asked for, since stopping a text stream stalls every hangup. */
static void pjffi_call_setting_default(pjsua_call_setting *opt)
{
    pjsua_call_setting_default(opt);
    opt->vid_cnt = 0;
    limit_text_streams(opt);
}

/* ------------------------------------------------------------------ message data */

#define PJFFI_MAX_HDRS 32

typedef struct pjffi_msg_data {
    pjsua_msg_data md;
    pjsip_generic_string_hdr hdr[PJFFI_MAX_HDRS];
    pj_str_t names[PJFFI_MAX_HDRS];
    pj_str_t values[PJFFI_MAX_HDRS];
    unsigned hdr_cnt;
} pjffi_msg_data;

static const int PJFFI_MSG_MAX_HDRS = PJFFI_MAX_HDRS;

static void pjffi_msg_data_init(pjffi_msg_data *m)
{
    pjsua_msg_data_init(&m->md);
    m->hdr_cnt = 0;
}

/* The header keeps pointers to name and value: the caller keeps both alive until the
 * pjsua call that uses the message data has returned (pjsua copies them into the
 * outgoing message). */
static int pjffi_msg_data_add_hdr(pjffi_msg_data *m, const char *name, long name_len,
                                  const char *value, long value_len)
{
    unsigned i = m->hdr_cnt;
    if (i >= PJFFI_MAX_HDRS)
        return -1;
    pj_strset(&m->names[i], (char*)name, name_len);
    pj_strset(&m->values[i], (char*)value, value_len);
    pjsip_generic_string_hdr_init2(&m->hdr[i], &m->names[i], &m->values[i]);
    pj_list_push_back(&m->md.hdr_list, &m->hdr[i]);
    m->hdr_cnt++;
    return 0;
}

static void pjffi_msg_data_set_body(pjffi_msg_data *m, const char *ctype, long ctype_len,
                                    const char *body, long body_len)
{
    pj_strset(&m->md.content_type, (char*)ctype, ctype_len);
    pj_strset(&m->md.msg_body, (char*)body, body_len);
}

/* ------------------------------------------------------------------ hot paths
 *
 * The operations a busy application repeats (call, answer, hang up, send a message)
 * in one call into C each: strings arrive as bytes with their length (no pj_str_t
 * built in Python), and the check that a call id still belongs to the caller's Call
 * (its user data is the Call's token: pjsua reuses ids) is made here, not in a call
 * of its own. Every call into C lets go of the GIL, and another thread may take it
 * meanwhile: fewer calls, fewer hand-offs. */
#define PJFFI_CALL_GONE (-1)   /* the call id no longer belongs to that token */

/* The call id still belongs to the Call whose token this is. */
static int pjffi_call_is(int call_id, void *token)
{
    return call_id >= 0 && call_id < (int)pjsua_call_get_max_count() &&
           pjsua_call_get_user_data(call_id) == token;
}

static int pjffi_call_make_call(int acc_id, const char *uri, long uri_len,
                                const pjsua_call_setting *opt, void *token,
                                const pjsua_msg_data *md, int *p_id)
{
    pj_str_t dst;
    pj_strset(&dst, (char*)uri, uri_len);
    return pjsua_call_make_call(acc_id, &dst, opt, token, md, p_id);
}

static int pjffi_call_answer(int call_id, void *token, const pjsua_call_setting *opt,
                             unsigned code, const char *reason, long reason_len,
                             const pjsua_msg_data *md)
{
    pj_str_t r;
    if (!pjffi_call_is(call_id, token))
        return PJFFI_CALL_GONE;
    pj_strset(&r, (char*)reason, reason_len);
    return pjsua_call_answer2(call_id, opt, code, reason ? &r : NULL, md);
}

static int pjffi_call_hangup(int call_id, void *token, unsigned code, const char *reason,
                             long reason_len, const pjsua_msg_data *md)
{
    pj_str_t r;
    if (!pjffi_call_is(call_id, token))
        return PJFFI_CALL_GONE;
    pj_strset(&r, (char*)reason, reason_len);
    return pjsua_call_hangup(call_id, code, reason ? &r : NULL, md);
}

static int pjffi_im_send(int acc_id, const char *uri, long uri_len, const char *mime,
                         long mime_len, const char *body, long body_len,
                         const pjsua_msg_data *md, void *user_data)
{
    pj_str_t to, type, text;
    pj_strset(&to, (char*)uri, uri_len);
    pj_strset(&type, (char*)mime, mime_len);
    pj_strset(&text, (char*)body, body_len);
    return pjsua_im_send(acc_id, &to, &type, &text, md, user_data);
}

/* ------------------------------------------------------------------ misc */

static int pjffi_verify_url(const char *url, int sip_only)
{
    return sip_only ? pjsua_verify_sip_url(url) : pjsua_verify_url(url);
}

/* Pools in use, and bytes cached for reuse, in pjsua's pool factory (leak checks). */
static long pjffi_pool_used(void)
{
    pj_caching_pool *cp = (pj_caching_pool*)pjsua_get_pool_factory();
    return cp ? (long)cp->used_count : -1;
}

static long pjffi_pool_cached(void)
{
    pj_caching_pool *cp = (pj_caching_pool*)pjsua_get_pool_factory();
    return cp ? (long)cp->capacity : -1;
}


static void pjffi_call_durations(const pjsua_call_info *ci, long *connect_ms, long *total_ms)
{
    *connect_ms = ci->connect_duration.sec * 1000 + ci->connect_duration.msec;
    *total_ms = ci->total_duration.sec * 1000 + ci->total_duration.msec;
}

static int pjffi_transport_port(const pjsua_transport_info *ti)
{
    return ti->local_name.port;
}

static const char *pjffi_transport_host(const pjsua_transport_info *ti, long *len)
{
    *len = ti->local_name.host.slen;
    return ti->local_name.host.ptr;
}

/* ------------------------------------------------------------------ crash report
 *
 * A crash inside pjsua's own threads leaves Python's faulthandler with "<no Python
 * frame>". On SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT this prints the C stack of
 * the crashing thread to stderr first (addresses resolve with addr2line against the
 * extension), then hands the signal to the handler that was there before (Python's
 * faulthandler, or the default action).
 */
#include <execinfo.h>
#include <signal.h>

static const int pjffi_fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
static struct sigaction pjffi_old_actions[PJ_ARRAY_SIZE(pjffi_fatal_signals)];
static int pjffi_crash_installed;

static void pjffi_on_fatal_signal(int sig)
{
    static const char head[] = "\npjsua-ffi: fatal signal in this thread; C stack:\n";
    void *frames[64];
    int n, i;
    (void)!write(2, head, sizeof(head) - 1);
    n = backtrace(frames, 64);
    backtrace_symbols_fd(frames, n, 2);
    for (i = 0; i < (int)PJ_ARRAY_SIZE(pjffi_fatal_signals); ++i) {
        if (pjffi_fatal_signals[i] == sig) {
            sigaction(sig, &pjffi_old_actions[i], NULL);
            break;
        }
    }
    raise(sig);
}

/* Install the crash report (once); the previous handlers run after it. */
static void pjffi_install_crash_report(void)
{
    void *warm[2];
    int i;
    if (pjffi_crash_installed)
        return;
    pjffi_crash_installed = 1;
    backtrace(warm, 2);   /* loads the unwinder now, not inside a signal handler */
    for (i = 0; i < (int)PJ_ARRAY_SIZE(pjffi_fatal_signals); ++i) {
        struct sigaction sa;
        pj_bzero(&sa, sizeof(sa));
        sa.sa_handler = &pjffi_on_fatal_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_NODEFER | SA_RESETHAND;
        sigaction(pjffi_fatal_signals[i], &sa, &pjffi_old_actions[i]);
    }
}
