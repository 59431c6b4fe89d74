/* The poller: pjsua runs without worker threads of its own, and the thread that takes
 * events (the callback thread, or the application in handle_events) polls pjsua's SIP
 * ioqueue while it waits for them (pjffi_next_events). Events raised while it polls are
 * delivered as soon as the poll returns, on the same thread and outside every pjsua
 * lock: no thread hand-off between pjsua and Python. An event queued by another thread
 * (the application's own calls, the media threads) wakes the poll with a datagram on a
 * socket registered in that ioqueue (a stale one costs a spurious wake-up, nothing
 * else).
 *
 * Locks: q_lock (queue.c) also guards poll_on, poll_blocked, wake_sent and poll_thread;
 * poll_token lets one thread at a time into pjsua_handle_events(), and no pjsua
 * callback ever waits for it; backup_lock guards the backup poller's sleep. What the
 * backup poller reads without a lock is atomic: the taker's busy state (py_busy,
 * busy_seq), backup_quit and loop_mode (written under q_lock).
 */
#include <sys/socket.h>
#include <unistd.h>

static int poll_on;                        /* pjffi_poll_attach() succeeded */
static pthread_mutex_t poll_token = PTHREAD_MUTEX_INITIALIZER;   /* one poller at a time */
static atomic_int py_busy;                 /* the event taker is running Python */
static atomic_uint busy_seq;               /* counts the taker's busy periods */
static pthread_mutex_t backup_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t backup_cond = PTHREAD_COND_INITIALIZER;
static atomic_int backup_quit;
static int backup_started;
static pthread_t backup_thread;
static int poll_blocked;                   /* a thread is inside pjsua_handle_events() */
static atomic_int loop_mode;               /* an event loop polls (loop.c) */
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
    if (atomic_load(&loop_mode)) {
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

/* The taker is still in the busy period the backup poller saw as `seen`. */
static int still_busy(unsigned seen)
{
    return atomic_load(&py_busy) && atomic_load(&busy_seq) == seen;
}

static void *backup_main(void *arg)
{
    unsigned seen = 0, ticks = 0;
    PJ_UNUSED_ARG(arg);
    pjffi_thread_register("pjffi-backup");
    pthread_mutex_lock(&backup_lock);
    while (!atomic_load(&backup_quit)) {
        struct timespec until;
        deadline_in(&until, PJFFI_BACKUP_TICK_MS);
        pthread_cond_timedwait(&backup_cond, &backup_lock, &until);
        if (atomic_load(&backup_quit))
            break;
        trim_after_burst(&ticks);
        if (atomic_load(&loop_mode)) {
            pthread_mutex_unlock(&backup_lock);
            loop_backup_tick(&seen);
            pthread_mutex_lock(&backup_lock);
            continue;
        }
        if (!atomic_load(&py_busy) || atomic_load(&busy_seq) != seen) {
            seen = atomic_load(&busy_seq);
            continue;
        }
        pthread_mutex_unlock(&backup_lock);
        while (still_busy(seen) && !atomic_load(&backup_quit)) {
            pthread_mutex_lock(&poll_token);
            if (still_busy(seen))
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
    atomic_store(&backup_quit, 0);
    atomic_store(&py_busy, 0);
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
        atomic_store(&backup_quit, 1);
        pthread_cond_signal(&backup_cond);
        pthread_mutex_unlock(&backup_lock);
        pthread_join(backup_thread, NULL);
        backup_started = 0;
    }
    atomic_store(&py_busy, 0);
    pj_ioqueue_unregister(wake_key);   /* closes wake_fd[0] */
    close(wake_fd[1]);
    wake_fd[0] = wake_fd[1] = -1;
    wake_key = NULL;
    pj_pool_release(wake_pool);
    wake_pool = NULL;
}

/* The CLOCK_REALTIME time timeout_ms from now, for pthread_cond_timedwait(). */
static void deadline_in(struct timespec *ts, int timeout_ms)
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

/* With q_lock held: poll pjsua once for up to wait_ms, with q_lock released meanwhile
 * (a thread that queues an event then knows to wake this poll). */
static void poll_once_locked(unsigned wait_ms)
{
    poll_thread = pthread_self();
    poll_blocked = 1;
    pthread_mutex_unlock(&q_lock);
    pthread_mutex_lock(&poll_token);
    pjsua_handle_events(wait_ms);
    pthread_mutex_unlock(&poll_token);
    pthread_mutex_lock(&q_lock);
    poll_blocked = 0;
    wake_sent = 0;   /* awake now: it looks at the queue before it polls again */
}

/* With q_lock held: poll pjsua until an event is queued, pjffi_wake() is called or
 * timeout_ms passes (negative: no limit; 0: poll once without waiting). */
static void poll_until_event(int timeout_ms)
{
    double end = timeout_ms > 0 ? mono_ms() + timeout_ms : 0;
    int wait_ms = timeout_ms < 0 ? 1000 : timeout_ms;
    while (!q_ready_locked() && !q_wake && poll_on) {
        if (timeout_ms > 0) {
            double left = end - mono_ms();
            if (left <= 0)
                break;
            wait_ms = left > 1000 ? 1000 : (int)left + (left > (int)left);
        }
        poll_once_locked((unsigned)wait_ms);
        if (timeout_ms == 0)
            break;
    }
}

/* With q_lock held, this thread's previous batch delivered: wait up to timeout_ms
 * (negative: forever) for an event this thread may take, polling pjsua meanwhile once
 * pjffi_poll_attach() was called, until then or pjffi_wake(); returns with q_lock held
 * and the Python side marked busy. */
static int wait_ready_locked(int timeout_ms)
{
    int ready;
    atomic_store(&py_busy, 0);
    q_release_locked();   /* the previous batch is delivered */
    if (atomic_load(&loop_mode) && timeout_ms == 0 && poll_on) {
        /* An event loop's step: poll once even with events queued, so that the wake
         * datagram that made the loop call us is read now, not on another step. */
        poll_once_locked(0);
    } else if (poll_on && !q_ready_locked() && !q_wake) {
        poll_until_event(timeout_ms);
    } else if (!q_ready_locked() && !q_wake && timeout_ms != 0) {
        if (timeout_ms < 0) {
            while (!q_ready_locked() && !q_wake)
                pthread_cond_wait(&q_cond, &q_lock);
        } else {
            struct timespec until;
            deadline_in(&until, timeout_ms);
            while (!q_ready_locked() && !q_wake) {
                if (pthread_cond_timedwait(&q_cond, &q_lock, &until) != 0)
                    break;
            }
        }
    }
    q_wake = 0;
    ready = q_ready_locked();
    atomic_fetch_add(&busy_seq, 1);   /* back to Python: a new busy period for the backup */
    atomic_store(&py_busy, 1);
    return ready;
}

/* The next queued event, waiting for one as wait_ready_locked() does. NULL on time-out
 * or after pjffi_wake(). The next batch call releases it. */
static pjffi_event *next_event(int timeout_ms)
{
    pjffi_qevent *q = NULL;
    pthread_mutex_lock(&q_lock);
    if (wait_ready_locked(timeout_ms))
        q = q_pop_locked();
    pthread_mutex_unlock(&q_lock);
    return q ? &q->ev : NULL;
}

/* The callback thread: free the previous batch and let go of it, then wait as
 * pjffi_next_events() does for events, but take none: 1 if some are ready. It then
 * takes the library lock and only then the batch (pjffi_take_events), so an API call,
 * which holds that lock, never finds earlier events held by it (see pjffi_take_own). */
static int pjffi_wait_events(pjffi_event **out, int timeout_ms, int nfree)
{
    int ready;
    free_events(out, nfree);
    pthread_mutex_lock(&q_lock);
    ready = wait_ready_locked(timeout_ms);
    pthread_mutex_unlock(&q_lock);
    return ready;
}

/* Free the previous batch (its first nfree entries), then take up to max queued events,
 * waiting as next_event() does for the first: one call into C, so one release of the
 * GIL, per batch. Returns how many. */
static int pjffi_next_events(pjffi_event **out, int max, int timeout_ms, int nfree)
{
    int n;
    free_events(out, nfree);
    if (max <= 0)
        return 0;
    out[0] = next_event(timeout_ms);
    if (!out[0])
        return 0;
    pthread_mutex_lock(&q_lock);
    n = q_take_locked(out + 1, max - 1);
    pthread_mutex_unlock(&q_lock);
    return 1 + n;
}

/* Make a waiting next_event() return (with or without an event). */
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
