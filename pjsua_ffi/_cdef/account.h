/* pjsua accounts and registration. */
typedef int pjsua_acc_id;
#define PJSUA_ACC_MAX_PROXIES ...

typedef struct pjsip_cred_info {
    pj_str_t realm;
    pj_str_t scheme;
    pj_str_t username;
    int data_type;
    pj_str_t data;
    ...;
} pjsip_cred_info;

typedef struct pjsip_auth_clt_pref {
    pj_bool_t initial_auth;
    pj_str_t algorithm;
    ...;
} pjsip_auth_clt_pref;

typedef struct pjsua_acc_config {
    void *user_data;
    int priority;
    pj_str_t id;
    pj_str_t reg_uri;
    pj_bool_t mwi_enabled;
    pj_bool_t publish_enabled;
    pj_str_t pidf_tuple_id;
    pj_str_t force_contact;
    int require_100rel;
    unsigned proxy_cnt;
    pj_str_t proxy[...];
    unsigned reg_timeout;
    unsigned cred_count;
    pjsip_cred_info cred_info[...];
    pjsip_auth_clt_pref auth_pref;
    pjsua_transport_id transport_id;
    pj_bool_t allow_contact_rewrite;
    pj_bool_t allow_via_rewrite;
    pj_bool_t allow_sdp_nat_rewrite;
    unsigned ka_interval;
    pj_str_t ka_data;
    pjsua_transport_config rtp_cfg;
    int use_srtp;
    int srtp_secure_signaling;
    pj_bool_t register_on_acc_add;
    ...;
} pjsua_acc_config;

typedef struct pjsua_acc_info {
    pjsua_acc_id id;
    pj_bool_t is_default;
    pj_str_t acc_uri;
    pj_bool_t has_registration;
    unsigned expires;
    int status;
    pj_status_t reg_last_err;
    pj_str_t status_text;
    pj_bool_t online_status;
    pj_str_t online_status_text;
    ...;
} pjsua_acc_info;

void pjsua_acc_config_default(pjsua_acc_config *cfg);
pj_bool_t pjsua_acc_is_valid(pjsua_acc_id acc_id);
pj_status_t pjsua_acc_add(const pjsua_acc_config *acc_cfg, pj_bool_t is_default,
                          pjsua_acc_id *p_acc_id);
pj_status_t pjsua_acc_add_local(pjsua_transport_id tid, pj_bool_t is_default,
                                pjsua_acc_id *p_acc_id);
pj_status_t pjsua_acc_del(pjsua_acc_id acc_id);
pj_status_t pjsua_acc_modify(pjsua_acc_id acc_id, const pjsua_acc_config *acc_cfg);
pj_status_t pjsua_acc_set_default(pjsua_acc_id acc_id);
pjsua_acc_id pjsua_acc_get_default(void);
pj_status_t pjsua_acc_get_info(pjsua_acc_id acc_id, pjsua_acc_info *info);
pj_status_t pjsua_acc_set_registration(pjsua_acc_id acc_id, pj_bool_t renew);
pj_status_t pjsua_acc_set_transport(pjsua_acc_id acc_id, pjsua_transport_id tp_id);
pj_status_t pjsua_acc_set_online_status(pjsua_acc_id acc_id, pj_bool_t is_online);
pj_status_t pjsua_acc_set_user_data(pjsua_acc_id acc_id, void *user_data);
void *pjsua_acc_get_user_data(pjsua_acc_id acc_id);
unsigned pjsua_acc_get_count(void);
