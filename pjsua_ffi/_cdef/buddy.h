/* pjsua buddies, presence and instant messages. */
typedef int pjsua_buddy_id;
typedef struct pjsua_srv_pres pjsua_srv_pres;

typedef struct pjsua_buddy_config {
    pj_str_t uri;
    pj_bool_t subscribe;
    void *user_data;
    ...;
} pjsua_buddy_config;

typedef struct pjrpid_element {
    int type;
    pj_str_t id;
    int activity;
    pj_str_t note;
    ...;
} pjrpid_element;

typedef struct pjsua_buddy_info {
    pjsua_buddy_id id;
    pj_str_t uri;
    pjsua_acc_id acc_id;
    pj_str_t contact;
    int status;
    pj_str_t status_text;
    pj_bool_t monitor_pres;
    int sub_state;
    const char *sub_state_name;
    unsigned sub_term_code;
    pj_str_t sub_term_reason;
    pjrpid_element rpid;
    ...;
} pjsua_buddy_info;

void pjsua_buddy_config_default(pjsua_buddy_config *cfg);
pj_bool_t pjsua_buddy_is_valid(pjsua_buddy_id buddy_id);
pjsua_buddy_id pjsua_buddy_find(const pj_str_t *uri);
pj_status_t pjsua_buddy_add(const pjsua_buddy_config *buddy_cfg, pjsua_buddy_id *p_buddy_id);
pj_status_t pjsua_buddy_del(pjsua_buddy_id buddy_id);
pj_status_t pjsua_buddy_get_info(pjsua_buddy_id buddy_id, pjsua_buddy_info *info);
pj_status_t pjsua_buddy_set_user_data(pjsua_buddy_id buddy_id, void *user_data);
void *pjsua_buddy_get_user_data(pjsua_buddy_id buddy_id);
pj_status_t pjsua_buddy_subscribe_pres(pjsua_buddy_id buddy_id, pj_bool_t subscribe);
pj_status_t pjsua_buddy_update_pres(pjsua_buddy_id buddy_id);
pj_status_t pjsua_acc_set_online_status2(pjsua_acc_id acc_id, pj_bool_t is_online,
                                         const pjrpid_element *pr);
pj_status_t pjsua_pres_notify(pjsua_acc_id acc_id, pjsua_srv_pres *srv_pres, int state,
                              const pj_str_t *state_str, const pj_str_t *reason,
                              pj_bool_t with_body, const pjsua_msg_data *msg_data);
pj_status_t pjsua_im_send(pjsua_acc_id acc_id, const pj_str_t *to, const pj_str_t *mime_type,
                          const pj_str_t *content, const pjsua_msg_data *msg_data,
                          void *user_data);
pj_status_t pjsua_im_typing(pjsua_acc_id acc_id, const pj_str_t *to, pj_bool_t is_typing,
                            const pjsua_msg_data *msg_data);

/* Our helpers (pjsua_ffi/_csrc/presence.c, and call.c for pjffi_im_send): server
 * subscriptions tracked by token, buddies tagged with a token, our presence with RPID
 * data, and a MESSAGE sent in one call into C. */
#define PJ_EEXISTS ...
#define PJ_EGONE ...


void pjffi_install_presence_callbacks(pjsua_config *cfg);
long pjffi_srv_pres_token(void *srv);
int pjffi_srv_pres_alive(void *srv, long token);
pj_status_t pjffi_pres_notify(int acc_id, void *srv, long token, int state,
                              const pj_str_t *reason, pj_bool_t with_body,
                              const pjsua_msg_data *msg_data);
int pjffi_buddy_find(int acc_id, const pj_str_t *uri);
pj_status_t pjffi_buddy_add(int acc_id, const pj_str_t *uri, long token, int *p_buddy_id);
pj_status_t pjffi_set_presence(int acc_id, pj_bool_t is_online, int activity,
                               const pj_str_t *note, const pj_str_t *rpid_id);
int pjffi_im_send(int acc_id, const char *uri, long uri_len, const char *mime,
                  long mime_len, const char *body, long body_len,
                  const pjsua_msg_data *md, void *user_data);
