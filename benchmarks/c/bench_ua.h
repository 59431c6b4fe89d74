/* bench_ua.h: the user agent that every C-side benchmark peer starts (the C program,
 * and the C part of peers/floor_peer.py), so that both run pjsua exactly alike: SIP and
 * RTP on 127.0.0.1 (IPv4 media), null sound device, ICE and VAD off, PCMU first, an 8 kHz bridge,
 * pjsua's own worker thread (none with --loop 1), log level 1. See benchmarks/README.md. */
#ifndef BENCH_UA_H
#define BENCH_UA_H

#include <pjsua-lib/pjsua.h>
#include <stdio.h>

/* pjsua's worker threads: 1 (pjsua polls itself); 0 for a program that polls pjsua
 * from its own loop (pjsua_bench --loop 1). */
static unsigned bench_ua_threads = 1;

/* Start pjsua with the callbacks in cb, a UDP transport on 127.0.0.1:port (0: any) and
 * a local account sip:bench@127.0.0.1:<port>. On failure *what names the step. */
static pj_status_t bench_ua_start(const pjsua_callback *cb, int port, int max_calls,
                                  pjsua_acc_id *acc_id, int *sip_port, const char **what)
{
    pjsua_config cfg;
    pjsua_logging_config log_cfg;
    pjsua_media_config media_cfg;
    pjsua_transport_config tp_cfg;
    pjsua_transport_info tp_info;
    pjsua_transport_id tp_id;
    pjsua_acc_config acc_cfg;
    static char acc_uri[80];
    pj_str_t pcmu = pj_str("PCMU");
    pj_status_t st;

#define BENCH_STEP(name, expr) do { *what = (name); if ((st = (expr)) != PJ_SUCCESS) \
        return st; } while (0)
    pj_log_set_level(1);
    BENCH_STEP("pjsua_create", pjsua_create());
    pjsua_config_default(&cfg);
    cfg.max_calls = (unsigned)max_calls;
    cfg.thread_cnt = bench_ua_threads;
    cfg.cb = *cb;
    pjsua_logging_config_default(&log_cfg);
    log_cfg.level = 1;
    log_cfg.console_level = 1;
    pjsua_media_config_default(&media_cfg);
    media_cfg.clock_rate = 8000;
    media_cfg.snd_clock_rate = 8000;
    media_cfg.no_vad = PJ_TRUE;
    media_cfg.enable_ice = PJ_FALSE;
    media_cfg.snd_auto_close_time = 1;
    BENCH_STEP("pjsua_init", pjsua_init(&cfg, &log_cfg, &media_cfg));
    BENCH_STEP("pjsua_set_null_snd_dev", pjsua_set_null_snd_dev());
    pjsua_codec_set_priority(&pcmu, 255);

    pjsua_transport_config_default(&tp_cfg);
    tp_cfg.port = (unsigned)port;
    tp_cfg.bound_addr = pj_str("127.0.0.1");
    tp_cfg.public_addr = pj_str("127.0.0.1");
    BENCH_STEP("transport_create",
               pjsua_transport_create(PJSIP_TRANSPORT_UDP, &tp_cfg, &tp_id));
    BENCH_STEP("transport_get_info", pjsua_transport_get_info(tp_id, &tp_info));
    BENCH_STEP("pjsua_start", pjsua_start());
    *sip_port = pj_sockaddr_get_port(&tp_info.local_addr);

    pjsua_acc_config_default(&acc_cfg);
    snprintf(acc_uri, sizeof(acc_uri), "sip:bench@127.0.0.1:%d", *sip_port);
    acc_cfg.id = pj_str(acc_uri);
    acc_cfg.transport_id = tp_id;
    acc_cfg.rtp_cfg.port = 0;
    acc_cfg.rtp_cfg.bound_addr = pj_str("127.0.0.1");
    acc_cfg.rtp_cfg.public_addr = pj_str("127.0.0.1");
    /* IPv4 media, as pjsua_ffi's AccountConfig: with IPv6 built in, pjsua's default
     * looks up the host name's IPv6 address (a DNS query) at every call. */
    acc_cfg.ipv6_media_use = PJSUA_IPV6_DISABLED;
    BENCH_STEP("acc_add", pjsua_acc_add(&acc_cfg, PJ_TRUE, acc_id));
#undef BENCH_STEP
    *what = NULL;
    return PJ_SUCCESS;
}

#endif
