/* TLS settings, TURN credentials, and what a call's media transport says about
 * encryption (SRTP) and NAT traversal (ICE), in flat structs Python can fill and read.
 * TLS connections that fail (certificate verification included) are remembered with
 * their reason, since pjsua reports them only through a transport callback. */

typedef struct pjffi_tls_cfg {
    const char *ca_list_file;
    const char *ca_list_path;
    const char *cert_file;
    const char *privkey_file;
    const char *password;
    int method;
    unsigned proto;
    unsigned ciphers_num;
    int *ciphers;
    int verify_server;
    int verify_client;
    int require_client_cert;
    int timeout_ms;
} pjffi_tls_cfg;

static void set_pjstr(pj_str_t *dst, const char *s)
{
    if (s && *s)
        *dst = pj_str((char *)s);
}

/* Put a TLS configuration into a transport configuration (strings are borrowed:
 * pjsip copies them when the transport is created). */
static void pjffi_tls_apply(pjsua_transport_config *cfg, const pjffi_tls_cfg *t)
{
    pjsip_tls_setting *s = &cfg->tls_setting;
    set_pjstr(&s->ca_list_file, t->ca_list_file);
    set_pjstr(&s->ca_list_path, t->ca_list_path);
    set_pjstr(&s->cert_file, t->cert_file);
    set_pjstr(&s->privkey_file, t->privkey_file);
    set_pjstr(&s->password, t->password);
    s->method = (pjsip_ssl_method)t->method;
    if (t->proto)
        s->proto = t->proto;
    s->ciphers_num = t->ciphers_num;
    s->ciphers = (pj_ssl_cipher *)t->ciphers;
    s->verify_server = t->verify_server ? PJ_TRUE : PJ_FALSE;
    s->verify_client = t->verify_client ? PJ_TRUE : PJ_FALSE;
    s->require_client_cert = t->require_client_cert ? PJ_TRUE : PJ_FALSE;
    if (t->timeout_ms > 0) {
        s->timeout.sec = t->timeout_ms / 1000;
        s->timeout.msec = t->timeout_ms % 1000;
    }
}

/* The cipher id of an OpenSSL cipher name, or -1 if this build does not know it. */
static int pjffi_ssl_cipher_id(const char *name)
{
    pj_ssl_cipher id = pj_ssl_cipher_id(name);
    return (id == PJ_TLS_UNKNOWN_CIPHER || !pj_ssl_cipher_is_supported(id)) ? -1 : (int)id;
}

static void pjffi_turn_cred(pjsua_media_config *cfg, const char *realm,
                            const char *username, int data_type, const char *data)
{
    pj_stun_auth_cred *c = &cfg->turn_auth_cred;
    c->type = PJ_STUN_AUTH_CRED_STATIC;
    set_pjstr(&c->data.static_cred.realm, realm);
    set_pjstr(&c->data.static_cred.username, username);
    c->data.static_cred.data_type = (pj_stun_passwd_type)data_type;
    set_pjstr(&c->data.static_cred.data, data);
}

/* ------------------------------------------------------------------ TLS failures */

#define PJFFI_TLS_FAIL_MAX 16
#define PJFFI_TLS_FAIL_LEN 400

static pthread_mutex_t tls_fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char tls_fail[PJFFI_TLS_FAIL_MAX][PJFFI_TLS_FAIL_LEN];
static unsigned tls_fail_cnt;   /* total ever recorded; the ring keeps the last 16 */

static void on_transport_state(pjsip_transport *tp, pjsip_transport_state state,
                                     const pjsip_transport_state_info *info)
{
    char line[PJFFI_TLS_FAIL_LEN], err[120], addr[PJ_INET6_ADDRSTRLEN + 10];
    pj_size_t n;
    pj_uint32_t verify = 0;

    if (!tp || !info || !(tp->flag & PJSIP_TRANSPORT_SECURE))
        return;
    if (info->ext_info) {
        const pjsip_tls_state_info *ti = (const pjsip_tls_state_info *)info->ext_info;
        if (ti->ssl_sock_info)
            verify = ti->ssl_sock_info->verify_status;
    }
    /* A verification failure, a connection kept despite an unverified certificate,
     * or a connection that broke for another reason than an ordinary close. */
    if (!(info->status == PJSIP_TLS_ECERTVERIF ||
          (state == PJSIP_TP_STATE_CONNECTED && verify) ||
          (state == PJSIP_TP_STATE_DISCONNECTED && info->status != PJ_SUCCESS &&
           info->status != PJ_ECANCELLED && info->status != PJ_EEOF)))
        return;
    pj_sockaddr_print(&tp->key.rem_addr, addr, sizeof(addr), 3);
    pj_strerror(info->status, err, sizeof(err));
    n = (pj_size_t)snprintf(line, sizeof(line), "TLS %s %.*s: %s",
                            info->status ? "failed with" : "accepted despite",
                            (int)(addr[0] ? strlen(addr) : 1), addr[0] ? addr : "?",
                            info->status ? err : "unverified certificate");
    if (verify) {
        const char *msgs[32];
        unsigned cnt = 32, i;
        if (pj_ssl_cert_get_verify_status_strings(verify, msgs, &cnt) == PJ_SUCCESS) {
            for (i = 0; i < cnt && n < sizeof(line) - 1; ++i)
                n += (pj_size_t)snprintf(line + n, sizeof(line) - n, "%s%s",
                                         i ? "; " : " (", msgs[i]);
            if (n < sizeof(line) - 1)
                n += (pj_size_t)snprintf(line + n, sizeof(line) - n, ")");
        }
    }
    PJ_LOG(2, ("pjsua-ffi", "%s", line));
    pthread_mutex_lock(&tls_fail_lock);
    pj_ansi_strxcpy(tls_fail[tls_fail_cnt % PJFFI_TLS_FAIL_MAX], line, PJFFI_TLS_FAIL_LEN);
    tls_fail_cnt++;
    pthread_mutex_unlock(&tls_fail_lock);
}

static pjsip_redirect_op on_call_redirected(pjsua_call_id call_id,
                                                  const pjsip_uri *target,
                                                  const pjsip_event *e);

static void pjffi_install_secure_callbacks(pjsua_config *cfg)
{
    cfg->cb.on_transport_state = &on_transport_state;
    cfg->cb.on_call_redirected = &on_call_redirected;
}

/* Copy TLS failure number `index` (counting from 0 since start) into buf; returns the
 * number recorded so far. Entries older than the last 16 read as empty. */
static unsigned pjffi_tls_failure(unsigned index, char *buf, int len)
{
    unsigned total;
    pthread_mutex_lock(&tls_fail_lock);
    total = tls_fail_cnt;
    if (buf && len > 0) {
        buf[0] = '\0';
        if (index < total && total - index <= PJFFI_TLS_FAIL_MAX)
            pj_ansi_strxcpy(buf, tls_fail[index % PJFFI_TLS_FAIL_MAX], len);
    }
    pthread_mutex_unlock(&tls_fail_lock);
    return total;
}

/* ------------------------------------------------------------------ media transport */

typedef struct pjffi_media_sec {
    int srtp_active;
    char srtp_suite[64];
    int ice_active;
    char ice_state[32];
    int ice_role;
    int ice_comp_cnt;
    char lcand_type[16];
    char lcand_addr[64];
    char rcand_type[16];
    char rcand_addr[64];
    char local_rtp[64];
    char src_rtp[64];
} pjffi_media_sec;

/* What the audio stream's media transport of a call reports; -1 if no audio stream. */
static pj_status_t pjffi_call_media_sec(int call_id, pjffi_media_sec *out)
{
    pjsua_call_info ci;
    pjmedia_transport_info tpi;
    unsigned i, med = 0;
    pj_status_t st;
    int found = 0;

    pj_bzero(out, sizeof(*out));
    st = pjsua_call_get_info(call_id, &ci);
    if (st != PJ_SUCCESS)
        return st;
    for (i = 0; i < ci.media_cnt; ++i) {
        if (ci.media[i].type == PJMEDIA_TYPE_AUDIO) {
            med = i;
            found = 1;
            break;
        }
    }
    if (!found)
        return PJ_ENOTFOUND;
    pjmedia_transport_info_init(&tpi);
    st = pjsua_call_get_med_transport_info(call_id, med, &tpi);
    if (st != PJ_SUCCESS)
        return st;
    if (pj_sockaddr_has_addr(&tpi.sock_info.rtp_addr_name))
        pj_sockaddr_print(&tpi.sock_info.rtp_addr_name, out->local_rtp,
                          sizeof(out->local_rtp), 3);
    if (pj_sockaddr_has_addr(&tpi.src_rtp_name))
        pj_sockaddr_print(&tpi.src_rtp_name, out->src_rtp, sizeof(out->src_rtp), 3);
    for (i = 0; i < tpi.specific_info_cnt; ++i) {
        if (tpi.spc_info[i].type == PJMEDIA_TRANSPORT_TYPE_SRTP) {
            const pjmedia_srtp_info *s = (const pjmedia_srtp_info *)tpi.spc_info[i].buffer;
            out->srtp_active = s->active ? 1 : 0;
            if (s->active && s->tx_policy.name.slen > 0)
                pj_ansi_snprintf(out->srtp_suite, sizeof(out->srtp_suite), "%.*s",
                                 (int)s->tx_policy.name.slen, s->tx_policy.name.ptr);
        } else if (tpi.spc_info[i].type == PJMEDIA_TRANSPORT_TYPE_ICE) {
            const pjmedia_ice_transport_info *ice =
                (const pjmedia_ice_transport_info *)tpi.spc_info[i].buffer;
            out->ice_active = ice->active ? 1 : 0;
            pj_ansi_strxcpy(out->ice_state, pj_ice_strans_state_name(ice->sess_state),
                            sizeof(out->ice_state));
            out->ice_role = (int)ice->role;
            out->ice_comp_cnt = (int)ice->comp_cnt;
            if (ice->active && ice->comp_cnt > 0) {
                pj_ansi_strxcpy(out->lcand_type,
                                pj_ice_get_cand_type_name(ice->comp[0].lcand_type),
                                sizeof(out->lcand_type));
                pj_ansi_strxcpy(out->rcand_type,
                                pj_ice_get_cand_type_name(ice->comp[0].rcand_type),
                                sizeof(out->rcand_type));
                pj_sockaddr_print(&ice->comp[0].lcand_addr, out->lcand_addr,
                                  sizeof(out->lcand_addr), 3);
                pj_sockaddr_print(&ice->comp[0].rcand_addr, out->rcand_addr,
                                  sizeof(out->rcand_addr), 3);
            }
        }
    }
    return PJ_SUCCESS;
}

/* ------------------------------------------------------------------ IPv6 */

static void pjffi_acc_ipv6_media(pjsua_acc_config *cfg, int use)
{
    cfg->ipv6_media_use = (pjsua_ipv6_use)use;
}

/* ------------------------------------------------------------------ redirects */

static atomic_int pjffi_follow_redirects;

static pjsip_redirect_op on_call_redirected(pjsua_call_id call_id,
                                                  const pjsip_uri *target,
                                                  const pjsip_event *e)
{
    char uri[256];
    int n, follow = atomic_load(&pjffi_follow_redirects);
    (void)e;
    n = pjsip_uri_print(PJSIP_URI_IN_REQ_URI, target, uri, sizeof(uri) - 1);
    uri[n > 0 ? n : 0] = '\0';
    PJ_LOG(4, ("pjsua-ffi", "Call %d redirected to %s: %s", call_id, uri,
               follow ? "following" : "not following"));
    return follow ? PJSIP_REDIRECT_ACCEPT : PJSIP_REDIRECT_STOP;
}

static void pjffi_set_follow_redirects(int on)
{
    atomic_store(&pjffi_follow_redirects, on);
}

/* ------------------------------------------------------------------ ICE options */

/* Negative values leave pjsua's default. */
static void pjffi_media_ice(pjsua_media_config *cfg, int max_host_cands, int aggressive,
                            int trickle)
{
    if (max_host_cands >= 0)
        cfg->ice_max_host_cands = max_host_cands;
    if (aggressive >= 0)
        cfg->ice_opt.aggressive = aggressive ? PJ_TRUE : PJ_FALSE;
    if (trickle >= 0)
        cfg->ice_opt.trickle = (pj_ice_sess_trickle)trickle;
}

/* pjsua_acc_add_local() with media on the transport's address family only: pjsua's
 * default (IPv6 allowed, IPv4 preferred) lets ICE offer IPv6 addresses even for an
 * IPv4 transport, which builds without IPv6 media never did. */
static pj_status_t pjffi_acc_add_local(int tid, int is_default, int *p_id)
{
    pjsua_transport_info ti;
    pjsua_acc_config cfg;
    pj_pool_t *pool;
    pjsua_ipv6_use use;
    pj_status_t st;

    st = pjsua_transport_get_info(tid, &ti);
    if (st != PJ_SUCCESS)
        return st;
    st = pjsua_acc_add_local(tid, is_default, p_id);
    if (st != PJ_SUCCESS)
        return st;
    use = (ti.type & PJSIP_TRANSPORT_IPV6) ? PJSUA_IPV6_ENABLED_USE_IPV6_ONLY
                                          : PJSUA_IPV6_DISABLED;
    pool = pjsua_pool_create("pjffi-acc", 1000, 1000);
    if (!pool)
        return PJ_ENOMEM;
    st = pjsua_acc_get_config(*p_id, pool, &cfg);
    if (st == PJ_SUCCESS && cfg.ipv6_media_use != use) {
        cfg.ipv6_media_use = use;
        st = pjsua_acc_modify(*p_id, &cfg);
    }
    pj_pool_release(pool);
    if (st != PJ_SUCCESS)
        pjsua_acc_del(*p_id);
    return st;
}
