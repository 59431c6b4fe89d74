/* Python audio ports, and the pump that services them.
 *
 * A `pjffi_aport` is a pjmedia_port that joins the conference bridge like any other
 * slot. The bridge's clock thread calls its get_frame/put_frame and never waits for
 * Python: samples move through a single-producer/single-consumer ring of int16 samples
 * whose two counters are C11 atomics, so neither side takes a lock.
 *
 *   source (array)  the samples are copied into the port once; get_frame copies from
 *                   that copy (optionally looping). No Python at all per frame.
 *   source (ring)   Python writes samples; get_frame takes one frame. A frame that
 *                   finds too few samples is an underrun (counted, rest is silence).
 *   sink            put_frame appends one frame; a frame that does not fit is dropped
 *                   (counted). Python reads whole frames out of the ring.
 *
 * When a port needs Python (a source ring below its low mark, a sink ring holding a
 * batch, an end of data) the clock thread puts it on the *pump*'s ready list - once,
 * guarded by the port's `queued` flag - and signals a condition variable. The pump is
 * one Python thread blocked in pjffi_pump_wait() (the GIL released, as in every cffi
 * call); it services the ports handed to it. Player end-of-file notices take the same
 * way as plain events, so no Python code ever runs on a media thread.
 *
 * Life time: the port has its own pool and group lock. We hold one reference, the
 * bridge another; whichever drops the last one runs on_destroy, which takes the port
 * off the ready list and frees the pool. Python never touches a port after closing it.
 */
#define PJFFI_APORT_SIG      PJMEDIA_SIG_CLASS_PORT_AUD('P', 'Y')
#define PJFFI_MAX_READY      (PJSUA_MAX_CONF_PORTS + 16)
#define PJFFI_MAX_PUMP_EVENTS 256

enum pjffi_aport_kind {
    PJFFI_SOURCE_ARRAY = 1,
    PJFFI_SOURCE_RING = 2,
    PJFFI_SINK = 3
};

typedef struct pjffi_aport {
    pjmedia_port base;
    pj_pool_t *pool;
    int kind;
    long token;                 /* Python's key for this port */
    unsigned spf;               /* samples per frame */

    /* ring (SOURCE_RING, SINK) or the whole signal (SOURCE_ARRAY) */
    pj_int16_t *buf;
    unsigned long cap;          /* samples in buf */
    atomic_ulong wr;            /* samples written so far */
    atomic_ulong rd;            /* samples read so far */
    unsigned long wake;         /* sink: wake Python at this fill; source: at or below */

    /* SOURCE_ARRAY */
    unsigned long pos;          /* clock thread only */
    atomic_ulong pub_pos;       /* pos as Python may read it */
    atomic_ulong seek;          /* 0, or a requested position + 1 */
    int loop;
    int ended;                  /* clock thread only */

    /* state shared with Python */
    atomic_int queued;          /* on the pump's ready list */
    atomic_int finished;        /* SOURCE_RING: the producer has no more data */
    atomic_int eof_sent;
    atomic_ulong frames;
    atomic_ulong underruns;
    atomic_ulong dropped;
    atomic_ulong eof_count;
} pjffi_aport;

typedef struct pjffi_aport_stats {
    unsigned long frames;
    unsigned long underruns;
    unsigned long dropped;
    unsigned long eof_count;
    unsigned long position;
    unsigned long fill;
    unsigned long capacity;
    int finished;
} pjffi_aport_stats;

/* ------------------------------------------------------------------ the pump */

static struct {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int signalled;
    int stop;
    pjffi_aport *ready[PJFFI_MAX_READY];
    unsigned nready;
    long events[PJFFI_MAX_PUMP_EVENTS];
    unsigned nevents;
    unsigned long lost_events;
} pjffi_pump = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER };

static const int PJFFI_PUMP_MAX_READY = PJFFI_MAX_READY;
static const int PJFFI_PUMP_MAX_EVENTS = PJFFI_MAX_PUMP_EVENTS;

static void pump_queue_port(pjffi_aport *p)
{
    if (atomic_exchange(&p->queued, 1))
        return;
    pthread_mutex_lock(&pjffi_pump.mutex);
    if (pjffi_pump.nready < PJFFI_MAX_READY)
        pjffi_pump.ready[pjffi_pump.nready++] = p;
    else
        atomic_store(&p->queued, 0);
    pjffi_pump.signalled = 1;
    pthread_cond_signal(&pjffi_pump.cond);
    pthread_mutex_unlock(&pjffi_pump.mutex);
}

static void pump_post_event(long token)
{
    pthread_mutex_lock(&pjffi_pump.mutex);
    if (pjffi_pump.nevents < PJFFI_MAX_PUMP_EVENTS)
        pjffi_pump.events[pjffi_pump.nevents++] = token;
    else
        pjffi_pump.lost_events++;
    pjffi_pump.signalled = 1;
    pthread_cond_signal(&pjffi_pump.cond);
    pthread_mutex_unlock(&pjffi_pump.mutex);
}

static void pump_forget_port(pjffi_aport *p)
{
    unsigned i;
    pthread_mutex_lock(&pjffi_pump.mutex);
    for (i = 0; i < pjffi_pump.nready; ++i) {
        if (pjffi_pump.ready[i] == p) {
            memmove(&pjffi_pump.ready[i], &pjffi_pump.ready[i + 1],
                    (pjffi_pump.nready - i - 1) * sizeof(pjffi_pump.ready[0]));
            pjffi_pump.nready--;
            break;
        }
    }
    pthread_mutex_unlock(&pjffi_pump.mutex);
}

/* Block (without the GIL) until a port or an event needs Python, or timeout_ms passes.
 * Returns how many port tokens were stored in `tokens` (each port's `queued` flag is
 * cleared as it is handed out), -1 once the pump was stopped; *n_events gets the
 * number of event tokens stored in `events`. */
static int pjffi_pump_wait(int timeout_ms, long *tokens, int max_tokens, long *events,
                           int max_events, int *n_events)
{
    int n = 0, e = 0;
    unsigned i;
    pthread_mutex_lock(&pjffi_pump.mutex);
    if (!pjffi_pump.signalled && !pjffi_pump.stop && timeout_ms > 0) {
        struct timespec ts;
        deadline_in(&ts, timeout_ms);
        pthread_cond_timedwait(&pjffi_pump.cond, &pjffi_pump.mutex, &ts);
    }
    if (pjffi_pump.stop) {
        pthread_mutex_unlock(&pjffi_pump.mutex);
        *n_events = 0;
        return -1;
    }
    while (n < max_tokens && (unsigned)n < pjffi_pump.nready) {
        tokens[n] = pjffi_pump.ready[n]->token;
        atomic_store(&pjffi_pump.ready[n]->queued, 0);
        n++;
    }
    if ((unsigned)n < pjffi_pump.nready)
        memmove(&pjffi_pump.ready[0], &pjffi_pump.ready[n],
                (pjffi_pump.nready - n) * sizeof(pjffi_pump.ready[0]));
    pjffi_pump.nready -= n;
    for (i = 0; (int)i < max_events && i < pjffi_pump.nevents; ++i)
        events[e++] = pjffi_pump.events[i];
    if ((unsigned)e < pjffi_pump.nevents)
        memmove(&pjffi_pump.events[0], &pjffi_pump.events[e],
                (pjffi_pump.nevents - e) * sizeof(pjffi_pump.events[0]));
    pjffi_pump.nevents -= e;
    pjffi_pump.signalled = (pjffi_pump.nready > 0 || pjffi_pump.nevents > 0);
    pthread_mutex_unlock(&pjffi_pump.mutex);
    *n_events = e;
    return n;
}

/* Stop (1) or re-arm (0) the pump; stopping wakes a waiting pjffi_pump_wait(). */
static void pjffi_pump_set_stop(int stop)
{
    pthread_mutex_lock(&pjffi_pump.mutex);
    pjffi_pump.stop = stop;
    if (!stop) {
        pjffi_pump.nevents = 0;
        pjffi_pump.signalled = pjffi_pump.nready > 0;
    }
    pthread_cond_broadcast(&pjffi_pump.cond);
    pthread_mutex_unlock(&pjffi_pump.mutex);
}

/* ------------------------------------------------------------------ ring */

static unsigned long ring_put(pjffi_aport *p, const pj_int16_t *src, unsigned long n)
{
    unsigned long wr = atomic_load_explicit(&p->wr, memory_order_relaxed);
    unsigned long rd = atomic_load_explicit(&p->rd, memory_order_acquire);
    unsigned long room = p->cap - (wr - rd), off, first;
    if (n > room)
        n = room;
    off = wr % p->cap;
    first = p->cap - off < n ? p->cap - off : n;
    if (src) {
        memcpy(p->buf + off, src, first * sizeof(pj_int16_t));
        memcpy(p->buf, src + first, (n - first) * sizeof(pj_int16_t));
    } else {
        memset(p->buf + off, 0, first * sizeof(pj_int16_t));
        memset(p->buf, 0, (n - first) * sizeof(pj_int16_t));
    }
    atomic_store_explicit(&p->wr, wr + n, memory_order_release);
    return n;
}

static unsigned long ring_get(pjffi_aport *p, pj_int16_t *dst, unsigned long n)
{
    unsigned long rd = atomic_load_explicit(&p->rd, memory_order_relaxed);
    unsigned long wr = atomic_load_explicit(&p->wr, memory_order_acquire);
    unsigned long fill = wr - rd, off, first;
    if (n > fill)
        n = fill;
    off = rd % p->cap;
    first = p->cap - off < n ? p->cap - off : n;
    memcpy(dst, p->buf + off, first * sizeof(pj_int16_t));
    memcpy(dst + first, p->buf, (n - first) * sizeof(pj_int16_t));
    atomic_store_explicit(&p->rd, rd + n, memory_order_release);
    return n;
}

static unsigned long ring_fill(pjffi_aport *p)
{
    return atomic_load_explicit(&p->wr, memory_order_acquire) -
           atomic_load_explicit(&p->rd, memory_order_acquire);
}

/* ------------------------------------------------------------------ port callbacks */

static void signal_eof(pjffi_aport *p)
{
    atomic_fetch_add(&p->eof_count, 1);
    pump_queue_port(p);
}

static pj_status_t aport_get_frame(pjmedia_port *this_port, pjmedia_frame *frame)
{
    pjffi_aport *p = (pjffi_aport*)this_port;
    pj_int16_t *out = (pj_int16_t*)frame->buf;
    unsigned long n = 0;

    if (p->kind == PJFFI_SOURCE_ARRAY) {
        unsigned long seek = atomic_exchange(&p->seek, 0);
        if (seek) {
            p->pos = seek - 1 < p->cap ? seek - 1 : p->cap;
            p->ended = 0;
        }
        if (p->ended || p->cap == 0) {
            frame->type = PJMEDIA_FRAME_TYPE_NONE;
            frame->size = 0;
            return PJ_SUCCESS;
        }
        while (n < p->spf) {
            unsigned long take = p->cap - p->pos;
            if (take > p->spf - n)
                take = p->spf - n;
            memcpy(out + n, p->buf + p->pos, take * sizeof(pj_int16_t));
            n += take;
            p->pos += take;
            if (p->pos >= p->cap) {
                signal_eof(p);
                if (!p->loop) {
                    memset(out + n, 0, (p->spf - n) * sizeof(pj_int16_t));
                    p->ended = 1;
                    break;
                }
                p->pos = 0;
            }
        }
        atomic_store(&p->pub_pos, p->pos);
    } else if (p->kind == PJFFI_SOURCE_RING) {
        int finished = atomic_load(&p->finished);
        n = ring_get(p, out, p->spf);
        if (n == 0) {
            if (finished) {
                if (!atomic_exchange(&p->eof_sent, 1))
                    signal_eof(p);
            } else {
                atomic_fetch_add(&p->underruns, 1);
                pump_queue_port(p);
            }
            frame->type = PJMEDIA_FRAME_TYPE_NONE;
            frame->size = 0;
            return PJ_SUCCESS;
        }
        if (n < p->spf) {
            memset(out + n, 0, (p->spf - n) * sizeof(pj_int16_t));
            if (!finished)
                atomic_fetch_add(&p->underruns, 1);
        }
        if (!finished && ring_fill(p) <= p->wake)
            pump_queue_port(p);
    } else {
        frame->type = PJMEDIA_FRAME_TYPE_NONE;
        frame->size = 0;
        return PJ_SUCCESS;
    }
    atomic_fetch_add(&p->frames, 1);
    frame->type = PJMEDIA_FRAME_TYPE_AUDIO;
    frame->size = p->spf * sizeof(pj_int16_t);
    frame->timestamp.u64 = 0;
    return PJ_SUCCESS;
}

static pj_status_t aport_put_frame(pjmedia_port *this_port, pjmedia_frame *frame)
{
    pjffi_aport *p = (pjffi_aport*)this_port;
    unsigned long fill;

    if (p->kind != PJFFI_SINK)
        return PJ_SUCCESS;
    fill = ring_fill(p);
    if (p->cap - fill < p->spf) {
        /* Python is behind: drop this frame rather than wait. */
        atomic_fetch_add(&p->dropped, 1);
        pump_queue_port(p);
        return PJ_SUCCESS;
    }
    if (frame->type == PJMEDIA_FRAME_TYPE_AUDIO && frame->buf) {
        unsigned long have = frame->size / sizeof(pj_int16_t);
        if (have > p->spf)
            have = p->spf;
        ring_put(p, (const pj_int16_t*)frame->buf, have);
        if (have < p->spf)
            ring_put(p, NULL, p->spf - have);
    } else {
        /* No one transmits to us: silence keeps the stream continuous. */
        ring_put(p, NULL, p->spf);
    }
    atomic_fetch_add(&p->frames, 1);
    if (fill + p->spf >= p->wake)
        pump_queue_port(p);
    return PJ_SUCCESS;
}

static pj_status_t aport_on_destroy(pjmedia_port *this_port)
{
    pjffi_aport *p = (pjffi_aport*)this_port;
    pump_forget_port(p);
    if (p->pool) {
        pj_pool_t *pool = p->pool;
        p->pool = NULL;
        pj_pool_release(pool);
    }
    return PJ_SUCCESS;
}

/* ------------------------------------------------------------------ port API */

/* Create a port, add it to the bridge and return it with its slot. `data`/`len` are
 * the samples of an array source (copied), `ring` the ring size in samples (rounded
 * up to whole frames), `wake` the fill at which Python is woken. */
static int pjffi_aport_create(int kind, const char *name, unsigned clock_rate, unsigned spf,
                              unsigned long ring, unsigned long wake,
                              const pj_int16_t *data, unsigned long len, int loop,
                              long token, pjffi_aport **p_port, int *p_slot)
{
    pj_pool_t *pool;
    pjffi_aport *p;
    pj_str_t pname;
    pj_status_t status;
    pjsua_conf_port_id slot = PJSUA_INVALID_ID;

    *p_port = NULL;
    *p_slot = PJSUA_INVALID_ID;
    if (spf == 0 || clock_rate == 0 || kind < PJFFI_SOURCE_ARRAY || kind > PJFFI_SINK)
        return PJ_EINVAL;
    pool = pjsua_pool_create("pyport%p", 512, 512);
    if (!pool)
        return PJ_ENOMEM;
    p = PJ_POOL_ZALLOC_T(pool, pjffi_aport);
    p->pool = pool;
    p->kind = kind;
    p->token = token;
    p->spf = spf;
    p->loop = loop;
    if (kind == PJFFI_SOURCE_ARRAY) {
        p->cap = len;
        if (len) {
            p->buf = (pj_int16_t*)pj_pool_alloc(pool, len * sizeof(pj_int16_t));
            if (!p->buf) {
                pj_pool_release(pool);
                return PJ_ENOMEM;
            }
            memcpy(p->buf, data, len * sizeof(pj_int16_t));
        }
    } else {
        unsigned long frames = (ring + spf - 1) / spf;
        if (frames < 2)
            frames = 2;
        p->cap = frames * spf;
        p->wake = wake;
        p->buf = (pj_int16_t*)pj_pool_zalloc(pool, p->cap * sizeof(pj_int16_t));
        if (!p->buf) {
            pj_pool_release(pool);
            return PJ_ENOMEM;
        }
        if (kind == PJFFI_SOURCE_RING && data && len)
            ring_put(p, data, len);
    }
    pname = pj_str(pj_pool_alloc(pool, 32));
    pj_ansi_strxcpy(pname.ptr, name ? name : "py", 32);
    pname.slen = (pj_ssize_t)strlen(pname.ptr);
    pjmedia_port_info_init(&p->base.info, &pname, PJFFI_APORT_SIG, clock_rate, 1, 16, spf);
    p->base.get_frame = &aport_get_frame;
    p->base.put_frame = &aport_put_frame;
    p->base.on_destroy = &aport_on_destroy;
    status = pjmedia_port_init_grp_lock(&p->base, pool, NULL);
    if (status != PJ_SUCCESS) {
        pj_pool_release(pool);
        return status;
    }
    status = pjsua_conf_add_port(pool, &p->base, &slot);
    if (status != PJ_SUCCESS) {
        pjmedia_port_destroy(&p->base);     /* our reference: frees the pool */
        return status;
    }
    *p_port = p;
    *p_slot = slot;
    return PJ_SUCCESS;
}

/* Take the port off the bridge and drop our reference. The bridge lets go of its
 * own on its next tick; the memory is freed then. */
static int pjffi_aport_close(pjffi_aport *p, int slot)
{
    pj_status_t status = pjsua_conf_remove_port(slot);
    pjmedia_port_destroy(&p->base);
    return status;
}

static unsigned long pjffi_aport_write(pjffi_aport *p, const pj_int16_t *data,
                                       unsigned long n)
{
    return ring_put(p, data, n);
}

static unsigned long pjffi_aport_read(pjffi_aport *p, pj_int16_t *out, unsigned long max)
{
    return ring_get(p, out, max);
}

/* The producer of a ring source has no more data: play what is left, then EOF. */
static void pjffi_aport_finish(pjffi_aport *p)
{
    atomic_store(&p->finished, 1);
}

/* Room in a ring source's ring (0 once its producer finished); *eof_count gets how
 * often the port reached its end. One call per pump visit. */
static unsigned long pjffi_aport_room(pjffi_aport *p, unsigned long *eof_count)
{
    *eof_count = atomic_load(&p->eof_count);
    if (p->kind != PJFFI_SOURCE_RING || atomic_load(&p->finished))
        return 0;
    return p->cap - ring_fill(p);
}

static void pjffi_aport_seek(pjffi_aport *p, unsigned long pos)
{
    atomic_store(&p->seek, pos + 1);
}

static void pjffi_aport_get_stats(pjffi_aport *p, pjffi_aport_stats *s)
{
    s->frames = atomic_load(&p->frames);
    s->underruns = atomic_load(&p->underruns);
    s->dropped = atomic_load(&p->dropped);
    s->eof_count = atomic_load(&p->eof_count);
    s->finished = atomic_load(&p->finished);
    s->capacity = p->cap;
    if (p->kind == PJFFI_SOURCE_ARRAY) {
        unsigned long seek = atomic_load(&p->seek);
        s->position = seek ? seek - 1 : atomic_load(&p->pub_pos);
        s->fill = 0;
    } else {
        s->position = atomic_load(&p->rd);
        s->fill = ring_fill(p);
    }
}

