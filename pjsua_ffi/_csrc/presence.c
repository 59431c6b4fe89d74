/* Presence: server subscriptions tracked by token, buddies tagged with a token, and our
 * presence with RPID data. Its shims build events with queue.c's ev_init, ev_set and
 * deliver, and wrap callbacks.c's on_incoming_subscribe (the lock each runs under is in
 * callbacks.c's table).
 *
 * Watchers of our presence are server subscriptions (pjsua_srv_pres). pjsua frees one
 * when it ends, sometimes without any callback (a rejected SUBSCRIBE, a NOTIFY that
 * could not be sent, accounts removed at shutdown), and may later allocate a new one at
 * the same address. Python therefore never trusts a bare pointer: every subscription
 * gets a token here when it is created, and each use checks the (pointer, token) pair
 * against this registry and against pjsua's own list of the account's subscriptions,
 * under pjsua's lock, before the pointer is dereferenced. The registry is only touched
 * with pjsua's lock held (pjsua holds it while it runs the callbacks below).
 */
#include <pjsua-lib/pjsua_internal.h>

typedef struct pjffi_srv_entry {
    void *srv;
    long token;
    int acc_id;
} pjffi_srv_entry;

static pjffi_srv_entry *srv_tab;
static unsigned srv_cnt, srv_cap;
static long srv_next_token;   /* never reset: tokens of an earlier Lib never match */

static pj_bool_t srv_listed(int acc_id, void *srv)
{
    if (acc_id < 0 || acc_id >= (int)PJ_ARRAY_SIZE(pjsua_var.acc) ||
        !pjsua_var.acc[acc_id].valid)
        return PJ_FALSE;
    return pj_list_find_node(&pjsua_var.acc[acc_id].pres_srv_list, srv) != NULL;
}

static int srv_index(void *srv)
{
    unsigned i;
    for (i = 0; i < srv_cnt; ++i)
        if (srv_tab[i].srv == srv)
            return (int)i;
    return -1;
}

static void srv_drop(int i)
{
    srv_tab[i] = srv_tab[--srv_cnt];
}

/* Record a new subscription; forget entries whose subscription pjsua already freed. */
static long srv_add(int acc_id, void *srv)
{
    unsigned i = 0;
    int old;
    while (i < srv_cnt) {
        if (srv_tab[i].srv != srv && !srv_listed(srv_tab[i].acc_id, srv_tab[i].srv))
            srv_drop((int)i);
        else
            ++i;
    }
    old = srv_index(srv);
    if (old >= 0)
        srv_drop(old);   /* same address, new subscription */
    if (srv_cnt == srv_cap) {
        unsigned cap = srv_cap ? srv_cap * 2 : 16;
        pjffi_srv_entry *tab = (pjffi_srv_entry*)realloc(srv_tab, cap * sizeof(*tab));
        if (!tab)
            return 0;
        srv_tab = tab;
        srv_cap = cap;
    }
    srv_tab[srv_cnt].srv = srv;
    srv_tab[srv_cnt].token = ++srv_next_token;
    srv_tab[srv_cnt].acc_id = acc_id;
    return srv_tab[srv_cnt++].token;
}

static void srv_forget(void *srv)
{
    int i = srv_index(srv);
    if (i >= 0)
        srv_drop(i);
}

/* The entry for (srv, token) if that subscription is still alive, else NULL. */
static pjffi_srv_entry *srv_live(void *srv, long token)
{
    int i = srv_index(srv);
    if (i < 0 || token == 0 || srv_tab[i].token != token)
        return NULL;
    if (!srv_listed(srv_tab[i].acc_id, srv)) {
        srv_drop(i);
        return NULL;
    }
    return &srv_tab[i];
}

/* Token of a subscription (0 if unknown). Python asks this during the SUBSCRIBE event. */
static long pjffi_srv_pres_token(void *srv)
{
    long token = 0;
    int i;
    PJSUA_LOCK();
    i = srv_index(srv);
    if (i >= 0)
        token = srv_tab[i].token;
    PJSUA_UNLOCK();
    return token;
}

static int pjffi_srv_pres_alive(void *srv, long token)
{
    int alive;
    PJSUA_LOCK();
    alive = srv_live(srv, token) != NULL;
    PJSUA_UNLOCK();
    return alive;
}

/* The live entry for (srv, token), or with srv NULL the live one with this token. */
static pjffi_srv_entry *srv_find(void *srv, long token)
{
    unsigned i;
    if (srv)
        return srv_live(srv, token);
    for (i = 0; i < srv_cnt; ++i)
        if (srv_tab[i].token == token)
            return srv_live(srv_tab[i].srv, token);
    return NULL;
}

/* Take the dialog lock of a live subscription, then PJSUA_LOCK: pjsua_pres_notify()
 * takes both, and pjsua's order is dialog first. The subscription can only be looked
 * up under PJSUA_LOCK, so with it held the dialog's lock is only tried; if another
 * thread has it (and may be waiting for PJSUA_LOCK), let go and try again, as pjsua's
 * acquire_call() does, for at most PJSUA_ACQUIRE_CALL_TIMEOUT ms. Returns the entry
 * with both held (the dialog in *p_dlg), or NULL with neither (status in *p_status). */
static pjffi_srv_entry *srv_lock(void *srv, long token, pjsip_dialog **p_dlg,
                                 pj_status_t *p_status)
{
    pj_time_val start, now;
    unsigned retry;
    pj_gettickcount(&start);
    for (retry = 0; ; ++retry) {
        pjffi_srv_entry *e;
        PJSUA_LOCK();
        e = srv_find(srv, token);
        if (!e) {
            PJSUA_UNLOCK();
            *p_status = PJ_EGONE;
            return NULL;
        }
        *p_dlg = ((pjsua_srv_pres*)e->srv)->dlg;
        if (pjsip_dlg_try_inc_lock(*p_dlg) == PJ_SUCCESS)
            return e;
        PJSUA_UNLOCK();
        pj_gettickcount(&now);
        PJ_TIME_VAL_SUB(now, start);
        if (PJ_TIME_VAL_MSEC(now) >= PJSUA_ACQUIRE_CALL_TIMEOUT) {
            *p_status = PJ_ETIMEDOUT;
            return NULL;
        }
        pj_thread_sleep(retry / 10);
    }
}

static void srv_unlock(pjsip_dialog *dlg)
{
    PJSUA_UNLOCK();
    pjsip_dlg_dec_lock(dlg);
}

/* pjsua_pres_notify for a subscription that is known to be alive; PJ_EGONE otherwise.
 * The pointer is not dereferenced unless it is in the account's list. */
static pj_status_t pjffi_pres_notify(int acc_id, void *srv, long token, int state,
                                     const pj_str_t *reason, pj_bool_t with_body,
                                     const pjsua_msg_data *msg_data)
{
    pjffi_srv_entry *e;
    pjsip_dialog *dlg;
    pj_status_t status;
    e = srv_lock(srv, token, &dlg, &status);
    if (!e)
        return status;
    if (e->acc_id != acc_id) {
        status = PJ_EINVAL;
    } else {
        status = pjsua_pres_notify(acc_id, (pjsua_srv_pres*)srv, (pjsip_evsub_state)state,
                                   NULL, reason, with_body, msg_data);
        if (status != PJ_SUCCESS)
            srv_forget(srv);   /* pjsua ends the subscription when NOTIFY fails */
    }
    srv_unlock(dlg);
    return status;
}

/* After a 202, the watcher must hear PENDING at once (RFC 6665); sent from a timer so
 * that it follows the 202 that pjsua sends after our callback returned. Skipped if the
 * application has already notified. */
static void send_pending_notify(void *user_data)
{
    long token = (long)(pj_ssize_t)user_data;
    pjffi_srv_entry *e;
    pjsip_dialog *dlg;
    pj_status_t status;
    void *srv;
    e = srv_lock(NULL, token, &dlg, &status);
    if (!e)
        return;
    srv = e->srv;   /* e points into the table, which the calls below may change */
    if (pjsip_evsub_get_state(((pjsua_srv_pres*)srv)->sub) < PJSIP_EVSUB_STATE_PENDING &&
        pjsua_pres_notify(e->acc_id, (pjsua_srv_pres*)srv, PJSIP_EVSUB_STATE_PENDING,
                          NULL, NULL, PJ_FALSE, NULL) != PJ_SUCCESS)
        srv_forget(srv);
    srv_unlock(dlg);
}

/* Wraps callbacks.c's shim: registers the subscription before Python sees it, and keeps
 * the registry right for the answers after which pjsua frees it silently. */
static void on_incoming_subscribe_tracked(pjsua_acc_id acc_id, pjsua_srv_pres *srv_pres,
                                          pjsua_buddy_id buddy_id, const pj_str_t *from,
                                          pjsip_rx_data *rdata, pjsip_status_code *code,
                                          pj_str_t *reason, pjsua_msg_data *msg_data)
{
    long token = srv_add(acc_id, srv_pres);
    on_incoming_subscribe(acc_id, srv_pres, buddy_id, from, rdata, code, reason, msg_data);
    if (*code < 200 || *code >= 300)
        srv_forget(srv_pres);
    else if (*code == 202 && token)
        pjsua_schedule_timer2(&send_pending_notify, (void*)(pj_ssize_t)token, 0);
}

static void on_srv_subscribe_state(pjsua_acc_id acc_id, pjsua_srv_pres *srv_pres,
                                   const pj_str_t *remote_uri, pjsip_evsub_state state,
                                   pjsip_event *event)
{
    pjffi_event ev;
    int i = srv_index(srv_pres);
    PJ_UNUSED_ARG(event);
    if (i < 0)
        return;
    ev_init(&ev, PJFFI_EV_SRV_SUBSCRIBE_STATE);
    ev.acc_id = acc_id;
    ev.obj = srv_pres;
    ev.user_data = (void*)(pj_ssize_t)srv_tab[i].token;
    ev.code = state;
    ev_set(&ev.s[0], remote_uri);
    if (srv_pres->sub) {
        ev.s[1] = pj_str((char*)pjsip_evsub_get_state_name(srv_pres->sub));
        if (state == PJSIP_EVSUB_STATE_TERMINATED)
            ev_set(&ev.s[2], pjsip_evsub_get_termination_reason(srv_pres->sub));
    }
    if (state == PJSIP_EVSUB_STATE_TERMINATED)
        srv_drop(i);
    deliver(&ev);
}

/* pjsua means to record a buddy's Contact from the 2xx to its SUBSCRIBE, but its test
 * compares the wrong event type and never does (2.14-2.17): take it from the dialog,
 * which pjsip keeps up to date. Called with the dialog locked, before on_buddy_state. */
static void on_buddy_evsub_state(pjsua_buddy_id buddy_id, pjsip_evsub *sub,
                                 pjsip_event *event)
{
    pjsua_buddy *b;
    pjsip_dialog *dlg;
    pj_ssize_t len;
    PJ_UNUSED_ARG(sub);
    PJ_UNUSED_ARG(event);
    if (!pjsua_buddy_is_valid(buddy_id))
        return;
    b = &pjsua_var.buddy[buddy_id];
    dlg = b->dlg;
    if (b->contact.slen != 0 || !b->pool || !dlg || !dlg->remote.contact ||
        !dlg->remote.contact->uri)
        return;
    b->contact.ptr = (char*)pj_pool_alloc(b->pool, PJSIP_MAX_URL_SIZE);
    len = pjsip_uri_print(PJSIP_URI_IN_CONTACT_HDR, dlg->remote.contact->uri,
                          b->contact.ptr, PJSIP_MAX_URL_SIZE);
    b->contact.slen = len > 0 ? len : 0;
}

/* Install this file's callbacks; call after pjffi_install_callbacks(), before init. */
static void pjffi_install_presence_callbacks(pjsua_config *cfg)
{
    free(srv_tab);
    srv_tab = NULL;
    srv_cnt = srv_cap = 0;
    cfg->cb.on_incoming_subscribe = &on_incoming_subscribe_tracked;
    cfg->cb.on_srv_subscribe_state = &on_srv_subscribe_state;
    cfg->cb.on_buddy_evsub_state = &on_buddy_evsub_state;
}

/* ------------------------------------------------------------------ buddies */

/* The buddy of acc_id matching a URI (pjsua's own matching: user, host, and port with
 * 5060 when absent), or PJSUA_INVALID_ID. Accepts name-addr forms ("Bob" <sip:...>).
 * With `loose`, a URI without a port also matches a buddy on another port when no
 * buddy matches exactly: pjsip leaves the port out of From headers, so this is how a
 * peer on a non-default port is recognised. */
static int buddy_find(int acc_id, const pj_str_t *uri, pj_bool_t loose)
{
    pj_pool_t *pool = pjsua_pool_create("pjffi-buddy", 512, 512);
    pj_str_t input;
    pjsip_uri *parsed;
    int exact = PJSUA_INVALID_ID, other = PJSUA_INVALID_ID;
    unsigned i;
    if (!pool)
        return PJSUA_INVALID_ID;
    pj_strdup_with_null(pool, &input, uri);
    parsed = pjsip_parse_uri(pool, input.ptr, input.slen, PJSIP_PARSE_URI_AS_NAMEADDR);
    if (parsed) {
        pjsip_uri *inner = (pjsip_uri*)pjsip_uri_get_uri(parsed);
        if (PJSIP_URI_SCHEME_IS_SIP(inner) || PJSIP_URI_SCHEME_IS_SIPS(inner)) {
            const pjsip_sip_uri *su = (const pjsip_sip_uri*)inner;
            int port = su->port ? su->port : 5060;
            for (i = 0; i < PJ_ARRAY_SIZE(pjsua_var.buddy); ++i) {
                const pjsua_buddy *b = &pjsua_var.buddy[i];
                if (!pjsua_buddy_is_valid(i) || b->acc_id != acc_id ||
                    pj_stricmp(&su->user, &b->name) != 0 ||
                    pj_stricmp(&su->host, &b->host) != 0)
                    continue;
                if (port == (int)b->port) {
                    exact = (int)i;
                    break;
                }
                if (loose && su->port == 0 && other == PJSUA_INVALID_ID)
                    other = (int)i;
            }
        }
    }
    pj_pool_release(pool);
    return exact != PJSUA_INVALID_ID ? exact : other;
}

/* The buddy of acc_id that sent a request with this From URI. */
static int pjffi_buddy_find(int acc_id, const pj_str_t *uri)
{
    int id;
    PJSUA_LOCK();
    id = buddy_find(acc_id, uri, PJ_TRUE);
    PJSUA_UNLOCK();
    return id;
}

/* Add a buddy of acc_id whose user data is token; PJ_EEXISTS if acc_id has it already. */
static pj_status_t pjffi_buddy_add(int acc_id, const pj_str_t *uri, long token,
                                   int *p_buddy_id)
{
    pjsua_buddy_config cfg;
    pj_status_t status;
    pjsua_buddy_config_default(&cfg);
    cfg.uri = *uri;
    cfg.subscribe = PJ_FALSE;
    cfg.user_data = (void*)(pj_ssize_t)token;
    cfg.acc_id = acc_id;
    PJSUA_LOCK();
    if (buddy_find(acc_id, uri, PJ_FALSE) != PJSUA_INVALID_ID)
        status = PJ_EEXISTS;
    else
        status = pjsua_buddy_add(&cfg, p_buddy_id);
    PJSUA_UNLOCK();
    return status;
}

/* Our presence with an RPID person element: activity and note. */
static pj_status_t pjffi_set_presence(int acc_id, pj_bool_t is_online, int activity,
                                      const pj_str_t *note, const pj_str_t *rpid_id)
{
    pjrpid_element pr;
    pj_bzero(&pr, sizeof(pr));
    pr.type = PJRPID_ELEMENT_TYPE_PERSON;
    pr.activity = (pjrpid_activity)activity;
    if (note)
        pr.note = *note;
    if (rpid_id)
        pr.id = *rpid_id;
    return pjsua_acc_set_online_status2(acc_id, is_online, &pr);
}
