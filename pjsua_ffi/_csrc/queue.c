/* The event: how a pjsua callback becomes one flat `pjffi_event` and reaches Python.
 *
 * pjsua's callbacks carry pjsip structures that Python should never see (rx_data,
 * transactions, events). The shims of callbacks.c turn each callback into one flat
 * `pjffi_event` and hand it to deliver(). Strings in an event point into pjsua's memory
 * and are valid only during that call: Python copies what it keeps. Events that need
 * an answer (a status code, a reason, "continue?") read it back from the event's out_*
 * fields after Python returns.
 *
 * Most events are copied into a queue here and handed to Python by the callback thread
 * (pjffi_next_events, poller.c), so pjsua's threads never wait for the GIL while they
 * hold pjsua's locks. A queued event owns copies of everything it points to: the info
 * snapshots and every string, in one allocation that the next batch call (or
 * pjffi_free_event) releases. Events that need an answer before pjsua can continue (a
 * REFER, an INVITE with Replaces, an incoming SUBSCRIBE) still call Python at once.
 *
 * Python takes events in batches, and one thread at a time holds a batch it has not
 * delivered yet (q_held): the callback thread, or an API call's thread taking the
 * events it raised (pjffi_take_own), so that events reach Python in queue order. The
 * callback thread takes a batch only while it holds the library lock, as API calls do
 * (pjffi_wait_events), so a call finds no earlier events held by it.
 *
 * q_lock guards the queue (q_head ... q_holder); it is a leaf: no pjsua call is made
 * while holding it.
 */

static void pjffi_enable_events(int on) { atomic_store(&pjffi_events_on, on); }
static void pjffi_enable_log(int on) { atomic_store(&pjffi_log_on, on); }

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

/* ------------------------------------------------------------------ the queue */

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
static unsigned long q_dropped;        /* events lost to a full queue */
static unsigned long q_seq;            /* events queued so far */
static __thread unsigned long tl_seq;  /* the last of them queued by this thread */
static int q_wake;                     /* pjffi_wake() was called */
static unsigned long q_popped;         /* events taken off the queue (or cleared) so far */
static int q_held;                     /* q_holder holds a batch it has not delivered yet */
static pthread_t q_holder;
static __thread int tl_api;            /* in an API call that delivers its own events */
static atomic_long pjffi_token_counter;

/* A new nonzero token for a call's user data. */
static long pjffi_new_token(void)
{
    return atomic_fetch_add(&pjffi_token_counter, 1) + 1;
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
    if (!atomic_load(&pjffi_events_on) && ev->kind != PJFFI_EV_LOG)  /* destroy's lines still go */
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
    wake = tl_api ? 0 : wake_poller_locked();   /* see pjffi_take_own */
    pthread_mutex_unlock(&q_lock);
    if (wake)
        send_wake();
}

/* Events are delivered in the order they were queued, so one thread at a time holds
 * taken events: the one that took the last batch, until it asks for the next (having
 * delivered that one). Another thread may take none meanwhile (q_ready_locked). */

/* With q_lock held: this thread may take events (nobody else holds a batch). */
static int q_mine_locked(void)
{
    return !q_held || pthread_equal(q_holder, pthread_self());
}

static int q_ready_locked(void)
{
    return q_head && q_mine_locked();
}

/* With q_lock held: this thread has delivered what it took. */
static void q_release_locked(void)
{
    if (q_held && pthread_equal(q_holder, pthread_self())) {
        q_held = 0;
        if (q_head)
            pthread_cond_broadcast(&q_cond);
    }
}

/* With q_lock held: take the oldest queued event off the queue (NULL: none). */
static pjffi_qevent *q_pop_locked(void)
{
    pjffi_qevent *q = q_head;
    if (q) {
        q_head = q->next;
        if (!q_head)
            q_tail = NULL;
        q_len--;
        q_popped++;
        q_held = 1;
        q_holder = pthread_self();
    }
    return q;
}

static void free_events(pjffi_event **evs, int n)
{
    int i;
    for (i = 0; i < n; ++i) {
        pjffi_event *ev = evs[i];
        /* A kept event is freed by whichever of its batch and its Python owner lets go
         * of it last (they may be on different threads). */
        int expect = 1;
        if (ev && !(atomic_load(&ev->kept) &&
                    atomic_compare_exchange_strong(&ev->kept, &expect, 2)))
            free((pjffi_qevent*)ev);
        evs[i] = NULL;
    }
}

/* With q_lock held: take up to max queued events, if this thread may. */
static int q_take_locked(pjffi_event **out, int max)
{
    int n = 0;
    pjffi_qevent *q;
    while (n < max && q_ready_locked() && (q = q_pop_locked()) != NULL)
        out[n++] = &q->ev;
    return n;
}

/* Free the previous batch (its first nfree entries), then take up to max queued events
 * at once without waiting or polling. */
static int pjffi_take_events(pjffi_event **out, int max, int nfree)
{
    int n;
    free_events(out, nfree);
    pthread_mutex_lock(&q_lock);
    q_release_locked();
    n = q_take_locked(out, max);
    pthread_mutex_unlock(&q_lock);
    return n;
}

/* Callback-thread mode: the calling thread enters an API call whose events it will
 * deliver itself as it leaves (pjffi_take_own), so queuing them wakes nobody. */
static void pjffi_api_enter(void) { tl_api = 1; }

/* Callback-thread mode, an API call leaving the gate: free the previous batch, then take
 * up to max of the events queued up to the last one this thread queued (those of other
 * threads before them too), for the caller to deliver at once (as pjsua runs the
 * callbacks of an API call inside it). Returns how many (0: all delivered; the call is
 * over), or -1 when another thread holds earlier events: that thread delivers these
 * too, and the poller is woken for them. */
static int pjffi_take_own(pjffi_event **out, int max, int nfree)
{
    int n = 0, wake = 0;
    pjffi_qevent *q;
    free_events(out, nfree);
    pthread_mutex_lock(&q_lock);
    if (!q_mine_locked()) {
        n = -1;
    } else {
        q_release_locked();
        while (n < max && q_popped < tl_seq && (q = q_pop_locked()) != NULL)
            out[n++] = &q->ev;
    }
    if (n <= 0) {
        tl_api = 0;
        if (q_head)
            wake = wake_poller_locked();
    }
    pthread_mutex_unlock(&q_lock);
    if (wake)
        send_wake();
    return n;
}

/* Release one event that Python kept past its batch (an info snapshot points into it). */
static void pjffi_free_event(pjffi_event *ev)
{
    int expect = 1;
    if (!atomic_compare_exchange_strong(&ev->kept, &expect, 3))
        free((pjffi_qevent*)ev);   /* its batch was freed already */
}

/* One of the queue's counters, read under q_lock. */
static unsigned long q_counter(const unsigned long *counter)
{
    unsigned long n;
    pthread_mutex_lock(&q_lock);
    n = *counter;
    pthread_mutex_unlock(&q_lock);
    return n;
}

/* How many events have been queued so far (see Lib._wait_delivered). */
static unsigned long pjffi_event_seq(void) { return q_counter(&q_seq); }

/* The number of the last event this thread queued (0: none yet). */
static unsigned long pjffi_my_last_seq(void) { return tl_seq; }

/* Drop every queued event; returns how many were dropped. */
static unsigned pjffi_queue_clear(void)
{
    unsigned n = 0;
    pjffi_qevent *q;
    pthread_mutex_lock(&q_lock);
    q = q_head;
    q_popped += q_len;
    q_head = q_tail = NULL;
    q_len = 0;
    q_wake = 0;
    q_held = 0;   /* a new library starts afresh, even if a stuck thread held a batch */
    pthread_mutex_unlock(&q_lock);
    while (q) {
        pjffi_qevent *next = q->next;
        free(q);
        q = next;
        n++;
    }
    return n;
}

/* How many events were lost so far because the queue was full. */
static unsigned long pjffi_queue_dropped(void) { return q_counter(&q_dropped); }
