/* Our own C helpers (pjsua_ffi/_csrc/helpers.c): flat events, thread registration,
 * message data with custom headers, and call settings with our defaults. */
static const int PJFFI_VERSION_NUM;
static const int PJFFI_HAS_TLS;
static const int PJFFI_MAX_CALLS;
static const int PJFFI_MSG_MAX_HDRS;

enum pjffi_event_kind {
    PJFFI_EV_CALL_STATE = 1,
    PJFFI_EV_INCOMING_CALL,
    PJFFI_EV_CALL_MEDIA_STATE,
    PJFFI_EV_DTMF,
    PJFFI_EV_TRANSFER_REQUEST,
    PJFFI_EV_TRANSFER_STATUS,
    PJFFI_EV_REPLACE_REQUEST,
    PJFFI_EV_CALL_REPLACED,
    PJFFI_EV_PAGER,
    PJFFI_EV_PAGER_STATUS,
    PJFFI_EV_TYPING,
    PJFFI_EV_REG_STATE,
    PJFFI_EV_INCOMING_SUBSCRIBE,
    PJFFI_EV_BUDDY_STATE,
    PJFFI_EV_MWI_INFO,
    PJFFI_EV_CALL_REQUEST,
    PJFFI_EV_LOG
};

typedef struct pjffi_event {
    int kind;
    int call_id;
    int acc_id;
    int other_id;
    int code;
    int flag;
    void *user_data;
    void *obj;
    pjsua_call_info *call_info;
    pjsua_acc_info *acc_info;
    pjsua_buddy_info *buddy_info;
    pj_str_t s[6];
    int out_code;
    int out_flag;
    char out_reason[256];
    int kept;
} pjffi_event;

typedef struct pjffi_msg_data {
    pjsua_msg_data md;
    ...;
} pjffi_msg_data;

void pjffi_enable_events(int on);
void pjffi_install_crash_report(void);
long pjffi_new_token(void);
int pjffi_next_events(pjffi_event **out, int max, int timeout_ms, int nfree);
int pjffi_take_events(pjffi_event **out, int max, int nfree);
void pjffi_free_event(pjffi_event *ev);
int pjffi_poll_attach(void);
void pjffi_poll_detach(void);
void pjffi_wake(void);
unsigned pjffi_queue_clear(void);
unsigned long pjffi_event_seq(void);
unsigned long pjffi_my_last_seq(void);
unsigned long pjffi_queue_dropped(void);
void pjffi_enable_log(int on);
void pjffi_set_log_cb_level(int level);
void pjffi_set_txt_cnt(unsigned n);
int pjffi_thread_register(const char *name);
void pjffi_quiet_audio_backends(void);
void pjffi_install_early_log(int level);
void pjffi_install_callbacks(pjsua_config *cfg, pjsua_logging_config *log_cfg);
void pjffi_call_setting_default(pjsua_call_setting *opt);
void pjffi_msg_data_init(pjffi_msg_data *m);
int pjffi_msg_data_add_hdr(pjffi_msg_data *m, const char *name, long name_len,
                           const char *value, long value_len);
void pjffi_msg_data_set_body(pjffi_msg_data *m, const char *ctype, long ctype_len,
                             const char *body, long body_len);
int pjffi_verify_url(const char *url, int sip_only);
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
int pjffi_im_send(int acc_id, const char *uri, long uri_len, const char *mime,
                  long mime_len, const char *body, long body_len,
                  const pjsua_msg_data *md, void *user_data);
long pjffi_pool_used(void);
long pjffi_pool_cached(void);
void pjffi_call_durations(const pjsua_call_info *ci, long *connect_ms, long *total_ms);
int pjffi_transport_port(const pjsua_transport_info *ti);
const char *pjffi_transport_host(const pjsua_transport_info *ti, long *len);
