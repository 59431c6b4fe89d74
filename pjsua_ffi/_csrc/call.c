/* Calls and message data: call settings with our defaults, message data with custom
 * headers and a body, and the hot paths a busy application repeats (make a call,
 * answer, hang up, send a message), each in one call into C. */

static const int PJFFI_MAX_CALLS = PJSUA_MAX_CALLS;

/* ------------------------------------------------------------------ call settings */

/* Most text (RFC 4103) streams a call may have: 0 unless the application asks. */
static atomic_uint pjffi_txt_cnt;

static void pjffi_set_txt_cnt(unsigned n) { atomic_store(&pjffi_txt_cnt, n); }

/* Keep a call's text streams within pjffi_txt_cnt (callbacks.c applies it to the
 * settings pjsua hands to a transfer, a replacement and an offer). */
static void limit_text_streams(pjsua_call_setting *opt)
{
#if PJFFI_HAS_TXT_STREAM
    unsigned cnt = atomic_load(&pjffi_txt_cnt);
    if (opt && opt->txt_cnt > cnt)
        opt->txt_cnt = cnt;
#else
    PJ_UNUSED_ARG(opt);
#endif
}


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

/* ------------------------------------------------------------------ addresses
 *
 * A URL's syntax, and the host and port a transport is bound to. */

static int pjffi_verify_url(const char *url, int sip_only)
{
    return sip_only ? pjsua_verify_sip_url(url) : pjsua_verify_url(url);
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

