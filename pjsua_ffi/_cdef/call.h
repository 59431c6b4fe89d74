/* pjsua calls. */
typedef int pjsua_call_id;
typedef int pjsua_conf_port_id;

typedef struct pjsua_call_setting {
    unsigned flag;
    unsigned aud_cnt;
    unsigned vid_cnt;
    ...;
} pjsua_call_setting;

typedef struct pjsua_msg_data { ...; } pjsua_msg_data;

typedef struct pjsua_call_info {
    pjsua_call_id id;
    int role;
    pjsua_acc_id acc_id;
    pj_str_t local_info;
    pj_str_t local_contact;
    pj_str_t remote_info;
    pj_str_t remote_contact;
    pj_str_t call_id;
    int state;
    pj_str_t state_text;
    int last_status;
    pj_str_t last_status_text;
    int media_status;
    int media_dir;
    pjsua_conf_port_id conf_slot;
    pj_time_val connect_duration;
    pj_time_val total_duration;
    ...;
} pjsua_call_info;

#define PJSUA_CALL_UNHOLD ...
#define PJSUA_CALL_UPDATE_CONTACT ...
#define PJSUA_XFER_NO_REQUIRE_REPLACES ...

unsigned pjsua_call_get_max_count(void);
unsigned pjsua_call_get_count(void);
pj_status_t pjsua_enum_calls(pjsua_call_id ids[], unsigned *count);
pj_status_t pjsua_call_make_call(pjsua_acc_id acc_id, const pj_str_t *dst_uri,
                                 const pjsua_call_setting *opt, void *user_data,
                                 const pjsua_msg_data *msg_data, pjsua_call_id *p_call_id);
pj_bool_t pjsua_call_is_active(pjsua_call_id call_id);
pj_bool_t pjsua_call_has_media(pjsua_call_id call_id);
pjsua_conf_port_id pjsua_call_get_conf_port(pjsua_call_id call_id);
pj_status_t pjsua_call_get_info(pjsua_call_id call_id, pjsua_call_info *info);
pj_status_t pjsua_call_set_user_data(pjsua_call_id call_id, void *user_data);
void *pjsua_call_get_user_data(pjsua_call_id call_id);
pj_status_t pjsua_call_answer2(pjsua_call_id call_id, const pjsua_call_setting *opt,
                               unsigned code, const pj_str_t *reason,
                               const pjsua_msg_data *msg_data);
pj_status_t pjsua_call_hangup(pjsua_call_id call_id, unsigned code, const pj_str_t *reason,
                              const pjsua_msg_data *msg_data);
pj_status_t pjsua_call_set_hold(pjsua_call_id call_id, const pjsua_msg_data *msg_data);
pj_status_t pjsua_call_reinvite2(pjsua_call_id call_id, const pjsua_call_setting *opt,
                                 const pjsua_msg_data *msg_data);
pj_status_t pjsua_call_update2(pjsua_call_id call_id, const pjsua_call_setting *opt,
                               const pjsua_msg_data *msg_data);
pj_status_t pjsua_call_xfer(pjsua_call_id call_id, const pj_str_t *dest,
                            const pjsua_msg_data *msg_data);
pj_status_t pjsua_call_xfer_replaces(pjsua_call_id call_id, pjsua_call_id dest_call_id,
                                     unsigned options, const pjsua_msg_data *msg_data);
pj_status_t pjsua_call_dial_dtmf(pjsua_call_id call_id, const pj_str_t *digits);
pj_status_t pjsua_call_send_request(pjsua_call_id call_id, const pj_str_t *method,
                                    const pjsua_msg_data *msg_data);
pj_status_t pjsua_call_send_im(pjsua_call_id call_id, const pj_str_t *mime_type,
                               const pj_str_t *content, const pjsua_msg_data *msg_data,
                               void *user_data);
pj_status_t pjsua_call_send_typing_ind(pjsua_call_id call_id, pj_bool_t is_typing,
                                       const pjsua_msg_data *msg_data);
void pjsua_call_hangup_all(void);
pj_status_t pjsua_call_dump(pjsua_call_id call_id, pj_bool_t with_media, char *buffer,
                            unsigned maxlen, const char *indent);

/* Our helpers (pjsua_ffi/_csrc/call.c): call settings with our defaults, message data
 * with custom headers, and the hot paths, which check a call's token themselves. */
static const int PJFFI_MAX_CALLS;
static const int PJFFI_MSG_MAX_HDRS;

typedef struct pjffi_msg_data {
    pjsua_msg_data md;
    ...;
} pjffi_msg_data;

long pjffi_new_token(void);
void pjffi_set_txt_cnt(unsigned n);
void pjffi_call_setting_default(pjsua_call_setting *opt);
void pjffi_msg_data_init(pjffi_msg_data *m);
int pjffi_msg_data_add_hdr(pjffi_msg_data *m, const char *name, long name_len,
                           const char *value, long value_len);
void pjffi_msg_data_set_body(pjffi_msg_data *m, const char *ctype, long ctype_len,
                             const char *body, long body_len);
#define PJFFI_CALL_GONE ...
int pjffi_call_is(int call_id, void *token);
int pjffi_call_make_call(int acc_id, const char *uri, long uri_len,
                         const pjsua_call_setting *opt, void *token,
                         const pjsua_msg_data *md, int *p_id);
int pjffi_call_answer(int call_id, void *token, const pjsua_call_setting *opt,
                      unsigned code, const char *reason, long reason_len,
                      const pjsua_msg_data *md);
int pjffi_call_hangup(int call_id, void *token, unsigned code, const char *reason,
                      long reason_len, const pjsua_msg_data *md);
