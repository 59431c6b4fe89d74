/* pjsua SIP transports. */
typedef int pjsua_transport_id;

typedef enum pjsip_transport_type_e {
    PJSIP_TRANSPORT_UNSPECIFIED,
    PJSIP_TRANSPORT_UDP,
    PJSIP_TRANSPORT_TCP,
    PJSIP_TRANSPORT_TLS,
    PJSIP_TRANSPORT_IPV6 = ...,
    PJSIP_TRANSPORT_UDP6 = ...,
    PJSIP_TRANSPORT_TCP6 = ...,
    PJSIP_TRANSPORT_TLS6 = ...,
    ...
} pjsip_transport_type_e;

typedef struct pjsua_transport_config {
    unsigned port;
    unsigned port_range;
    pj_bool_t randomize_port;
    pj_str_t public_addr;
    pj_str_t bound_addr;
    int qos_type;
    ...;
} pjsua_transport_config;

typedef struct pjsua_transport_info {
    pjsua_transport_id id;
    pjsip_transport_type_e type;
    pj_str_t type_name;
    pj_str_t info;
    unsigned flag;
    unsigned usage_count;
    ...;
} pjsua_transport_info;

void pjsua_transport_config_default(pjsua_transport_config *cfg);
pj_status_t pjsua_transport_create(pjsip_transport_type_e type,
                                   const pjsua_transport_config *cfg,
                                   pjsua_transport_id *p_id);
pj_status_t pjsua_enum_transports(pjsua_transport_id id[], unsigned *count);
pj_status_t pjsua_transport_get_info(pjsua_transport_id id, pjsua_transport_info *info);
pj_status_t pjsua_transport_close(pjsua_transport_id id, pj_bool_t force);

/* Our helpers (pjsua_ffi/_csrc/call.c): the address a transport is bound to. */
int pjffi_transport_port(const pjsua_transport_info *ti);
const char *pjffi_transport_host(const pjsua_transport_info *ti, long *len);
