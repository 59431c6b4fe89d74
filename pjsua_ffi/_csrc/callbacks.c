/* Every pjsua callback shim: each turns its callback into one pjffi_event (queue.c).
 * presence.c wraps on_incoming_subscribe and adds the server-subscription shims;
 * secure.c installs two that only log. pjffi_install_callbacks() is called first, then
 * the presence and secure installers, all before pjsua_init.
 *
 * Locks. pjsua's order is: a dialog's lock (D) first, then PJSUA_LOCK (P); code that
 * holds P may only *try* D and must let go of P and retry if it fails (acquire_call()).
 * The conference bridge's lock (B) is taken by its clock thread around every port's
 * get_frame/put_frame. Our own locks (queue.c's q_lock, poller.c's backup_lock and
 * poll_token, media_port.c's pump mutex, presence.c's registry, which lives under P)
 * are leaves: no pjsua call is made while holding one, except pjsua_handle_events()
 * under poll_token, which no pjsua callback ever waits for. Every shim pjsua calls, the
 * locks it may run under, and the pjsua calls it makes (checked against pjproject
 * 2.17's pjsua-lib; "sync" = calls Python before it returns, with those locks held,
 * otherwise it copies the event into the queue and returns):
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
 *     (presence.c)
 *   on_buddy_evsub_state       D of the buddy's subscription       reads the buddy
 *     (presence.c)
 *   on_buddy_state             D of the buddy's subscription       buddy_get_info
 *                                                                  (lock_buddy: tries)
 *   on_pager2 / on_typing2     none outside a call; D inside one   get_user_data
 *   on_pager_status2           the transaction's lock (+ D)        none
 *   on_mwi_info                D of the MWI subscription           none
 *   on_transport_state         the poller (TLS handshake, error);  none (logs: sync
 *     (secure.c)               on shutdown, the transport          pjffi_py_log)
 *                              manager's and the transport's locks
 *   on_call_redirected         D of the call (poller)              none (logs)
 *     (secure.c)
 *   log_writer                 any thread, any lock      sync     Python logging (no
 *                                                                  pjsua call)
 *   media_port.c ports         B, the bridge's clock thread        none (ring buffers)
 *   media.c player_eof_cb      B, the bridge's clock thread        none (pump list)
 *   media.c port_gone          the recorder's group lock, freed    none (condition var)
 *                              by B's clock thread
 *   gate.c gate_on_rx_request  no pjsua lock (poller)              pjsip_endpt_respond
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

/* Answers that pjsua reads after the callback returns must outlive it. */
static __thread char pjffi_reason_buf[256];

/* ------------------------------------------------------------------ calls */

/* An event about a call, with a snapshot of its info. */
static void deliver_call_event(int kind, pjsua_call_id call_id)
{
    pjffi_event ev;
    pjsua_call_info ci;
    ev_init(&ev, kind);
    ev.call_id = call_id;
    ev.user_data = pjsua_call_get_user_data(call_id);
    if (pjsua_call_get_info(call_id, &ci) == PJ_SUCCESS)
        ev.call_info = &ci;
    deliver(&ev);
}

static void on_call_state(pjsua_call_id call_id, pjsip_event *e)
{
    PJ_UNUSED_ARG(e);
    deliver_call_event(PJFFI_EV_CALL_STATE, call_id);
}

static void on_call_media_state(pjsua_call_id call_id)
{
    deliver_call_event(PJFFI_EV_CALL_MEDIA_STATE, call_id);
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

/* ------------------------------------------------------------- accounts, buddies, IM */

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

/* An incoming MESSAGE or typing indication, in a call (call_id) or outside one. */
static void im_event_init(pjffi_event *ev, int kind, pjsua_call_id call_id,
                          pjsua_acc_id acc_id, const pj_str_t *from, const pj_str_t *to,
                          const pj_str_t *contact)
{
    ev_init(ev, kind);
    ev->call_id = call_id;
    ev->acc_id = acc_id;
    if (call_id != PJSUA_INVALID_ID)
        ev->user_data = pjsua_call_get_user_data(call_id);
    ev_set(&ev->s[0], from);
    ev_set(&ev->s[1], to);
    ev_set(&ev->s[2], contact);
}

static void on_pager2(pjsua_call_id call_id, const pj_str_t *from, const pj_str_t *to,
                      const pj_str_t *contact, const pj_str_t *mime_type, const pj_str_t *body,
                      pjsip_rx_data *rdata, pjsua_acc_id acc_id)
{
    pjffi_event ev;
    im_event_init(&ev, PJFFI_EV_PAGER, call_id, acc_id, from, to, contact);
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
    im_event_init(&ev, PJFFI_EV_TYPING, call_id, acc_id, from, to, contact);
    ev.flag = is_typing;
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

/* ------------------------------------------------------------------ log lines */

/* Lines up to this level also go to the application's log callback (LogConfig.callback),
 * through the event queue: in order with the events around them, as the legacy module
 * calls it from inside pjsua. -1: no callback. */
static atomic_int pjffi_log_cb_level = -1;

static void pjffi_set_log_cb_level(int level) { atomic_store(&pjffi_log_cb_level, level); }

static void log_writer(int level, const char *data, int len)
{
    if (!atomic_load(&pjffi_log_on))
        return;
    pjffi_py_log(level, data, len);
    if (level <= atomic_load(&pjffi_log_cb_level) && atomic_load(&pjffi_events_on) &&
        len > 0) {
        pjffi_event ev;
        ev_init(&ev, PJFFI_EV_LOG);
        ev.code = level;
        ev.s[0].ptr = (char*)data;
        ev.s[0].slen = len;
        deliver(&ev);
    }
}

/* Send pjlib's lines to Python from the very start (pjsua_create logs too). */
static void pjffi_install_early_log(int level)
{
    pj_log_set_log_func(&log_writer);
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
    log_cfg->cb = &log_writer;
}

