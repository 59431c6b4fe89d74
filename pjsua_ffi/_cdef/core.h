/* pjsua core: library life cycle, logging and user-agent configuration. */
#define PJSUA_INVALID_ID ...

typedef struct pjsua_callback { ...; } pjsua_callback;

typedef struct pjsua_config {
    unsigned max_calls;
    unsigned thread_cnt;
    unsigned nameserver_count;
    pj_str_t nameserver[4];
    unsigned outbound_proxy_cnt;
    pj_str_t outbound_proxy[4];
    pj_str_t stun_domain;
    pj_str_t stun_host;
    unsigned stun_srv_cnt;
    pj_str_t stun_srv[8];
    pj_bool_t stun_ignore_failure;
    pj_bool_t enable_unsolicited_mwi;
    pjsua_callback cb;
    pj_str_t user_agent;
    ...;
} pjsua_config;

typedef struct pjsua_logging_config {
    pj_bool_t msg_logging;
    unsigned level;
    unsigned console_level;
    unsigned decor;
    pj_str_t log_filename;
    unsigned log_file_flags;
    ...;
} pjsua_logging_config;

typedef struct pjsua_media_config {
    unsigned clock_rate;
    unsigned snd_clock_rate;
    unsigned channel_count;
    unsigned audio_frame_ptime;
    unsigned max_media_ports;
    pj_bool_t has_ioqueue;
    unsigned thread_cnt;
    unsigned quality;
    unsigned ptime;
    pj_bool_t no_vad;
    unsigned ilbc_mode;
    unsigned tx_drop_pct;
    unsigned rx_drop_pct;
    unsigned ec_options;
    unsigned ec_tail_len;
    int jb_init;
    int jb_min_pre;
    int jb_max_pre;
    int jb_max;
    pj_bool_t enable_ice;
    pj_bool_t enable_turn;
    pj_str_t turn_server;
    int turn_conn_type;
    int snd_auto_close_time;
    ...;
} pjsua_media_config;

void pjsua_config_default(pjsua_config *cfg);
void pjsua_logging_config_default(pjsua_logging_config *cfg);
void pjsua_media_config_default(pjsua_media_config *cfg);

pj_status_t pjsua_create(void);
pj_status_t pjsua_init(const pjsua_config *ua_cfg, const pjsua_logging_config *log_cfg,
                       const pjsua_media_config *media_cfg);
pj_status_t pjsua_start(void);
pj_status_t pjsua_destroy(void);
int pjsua_get_state(void);
int pjsua_handle_events(unsigned msec_timeout);
pj_status_t pjsua_reconfigure_logging(const pjsua_logging_config *c);
void pjsua_perror(const char *sender, const char *title, pj_status_t status);
void pjsua_dump(pj_bool_t detail);

/* Our helpers of this area: threads, logging, callbacks, diagnostics
 * (pjsua_ffi/_csrc/queue.c, callbacks.c, diag.c, features.c). */
static const int PJFFI_VERSION_NUM;
static const int PJFFI_HAS_TLS;

int pjffi_thread_register(const char *name);
void pjffi_enable_log(int on);
void pjffi_set_log_cb_level(int level);
void pjffi_install_early_log(int level);
void pjffi_install_callbacks(pjsua_config *cfg, pjsua_logging_config *log_cfg);
void pjffi_quiet_audio_backends(void);
void pjffi_install_crash_report(void);
long pjffi_pool_used(void);
long pjffi_pool_cached(void);
int pjffi_verify_url(const char *url, int sip_only);

/* Optional parts the extension was built with (features.c). */
#define PJFFI_FEATURE_TLS ...
#define PJFFI_FEATURE_SRTP ...
#define PJFFI_FEATURE_OPUS ...
#define PJFFI_FEATURE_PORTAUDIO ...
#define PJFFI_FEATURE_ALSA ...
int pjffi_build_features(void);
const char *pjffi_pj_version(void);
