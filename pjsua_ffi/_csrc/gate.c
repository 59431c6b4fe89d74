/* Admission gate for pool workers (pjsua_ffi/pool.py).
 *
 * A pjsip module that sits just before pjsua's own application modules. While the gate
 * is open it lets everything through. Once closed with a status code (503 when a worker
 * drains) it answers every new INVITE and OPTIONS that arrives outside a dialog with
 * that code, so a proxy probing with OPTIONS takes the worker out of its set and a
 * stray INVITE is sent elsewhere. Requests inside a dialog never reach this module
 * (pjsip's dialog layer takes them first), so calls in progress go on normally.
 */

static atomic_int pjffi_gate_code;
/* INVITEs let in, INVITEs refused, OPTIONS refused, OPTIONS let in. */
static atomic_long pjffi_gate_counts[4];
static pj_bool_t gate_on_rx_request(pjsip_rx_data *rdata);

static pjsip_module pjffi_gate_module = {
    NULL, NULL,
    { "mod-pjffi-gate", 14 },
    -1,
    PJSIP_MOD_PRIORITY_APPLICATION - 1,
    NULL, NULL, NULL, NULL,
    &gate_on_rx_request,
    NULL, NULL, NULL, NULL,
};

static pj_bool_t gate_on_rx_request(pjsip_rx_data *rdata)
{
    int code = atomic_load(&pjffi_gate_code);
    const pjsip_method *m;
    pjsip_hdr hdrs;
    pjsip_retry_after_hdr *retry;

    if (rdata->msg_info.to == NULL || rdata->msg_info.to->tag.slen > 0)
        return PJ_FALSE;
    m = &rdata->msg_info.msg->line.req.method;
    if (m->id != PJSIP_INVITE_METHOD && m->id != PJSIP_OPTIONS_METHOD)
        return PJ_FALSE;
    if (code == 0) {
        atomic_fetch_add(&pjffi_gate_counts[m->id == PJSIP_INVITE_METHOD ? 0 : 3], 1);
        return PJ_FALSE;
    }
    atomic_fetch_add(&pjffi_gate_counts[m->id == PJSIP_INVITE_METHOD ? 1 : 2], 1);
    pj_list_init(&hdrs);
    retry = pjsip_retry_after_hdr_create(rdata->tp_info.pool, 5);
    if (retry)
        pj_list_push_back(&hdrs, retry);
    pjsip_endpt_respond(pjsua_get_pjsip_endpt(), NULL, rdata, code, NULL, &hdrs, NULL, NULL);
    return PJ_TRUE;
}

/* Close the gate with a 3xx-6xx status code, or open it with 0. The module is added to
 * the current SIP endpoint on first use (pjsua_init must have run). */
static int pjffi_gate_set(int code)
{
    pjsip_endpoint *endpt = pjsua_get_pjsip_endpt();
    if (code != 0 && (code < 300 || code > 699))
        return PJ_EINVAL;
    if (endpt == NULL)
        return PJ_EINVALIDOP;
    if (pjffi_gate_module.id == -1) {
        /* A new endpoint (pjsua_destroy unloads every module): start counting anew. */
        pj_status_t st;
        unsigned i;
        for (i = 0; i < PJ_ARRAY_SIZE(pjffi_gate_counts); ++i)
            atomic_store(&pjffi_gate_counts[i], 0);
        atomic_store(&pjffi_gate_code, 0);
        st = pjsip_endpt_register_module(endpt, &pjffi_gate_module);
        if (st != PJ_SUCCESS)
            return st;
    }
    atomic_store(&pjffi_gate_code, code);
    return PJ_SUCCESS;
}

static long pjffi_gate_count(int which)
{
    return (which >= 0 && which < 4) ? atomic_load(&pjffi_gate_counts[which]) : -1;
}
