/* Our presence helpers (pjsua_ffi/_csrc/presence.c): server subscriptions tracked by
 * token, buddies tagged with a token, and our presence with RPID data. */
#define PJ_EEXISTS ...
#define PJ_EGONE ...

enum pjffi_presence_event_kind {
    PJFFI_EV_SRV_SUBSCRIBE_STATE = 100
};

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
