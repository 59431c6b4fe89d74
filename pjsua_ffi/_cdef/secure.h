/* pjsua_ffi/_csrc/secure.c: TLS settings, TURN credentials, SRTP and ICE state. */
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

void pjffi_tls_apply(pjsua_transport_config *cfg, const pjffi_tls_cfg *t);
int pjffi_ssl_cipher_id(const char *name);
void pjffi_turn_cred(pjsua_media_config *cfg, const char *realm, const char *username,
                     int data_type, const char *data);
void pjffi_install_secure_callbacks(pjsua_config *cfg);
unsigned pjffi_tls_failure(unsigned index, char *buf, int len);
int pjffi_call_media_sec(int call_id, pjffi_media_sec *out);
void pjffi_acc_ipv6_media(pjsua_acc_config *cfg, int use);
void pjffi_set_follow_redirects(int on);
void pjffi_media_ice(pjsua_media_config *cfg, int max_host_cands, int aggressive, int trickle);
int pjffi_acc_add_local(int tid, int is_default, int *p_id);
