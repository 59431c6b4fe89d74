/* pjsua-ffi settings for pjproject, copied to pjlib/include/pj/config_site.h at build time.
 *
 * Stock pjproject is sized for small devices (4 calls, 64 sockets per ioqueue); a binding
 * used for test tools and bots needs room for a thousand calls in one process.
 */
#ifndef PJSUA_FFI_CONFIG_SITE_H
#define PJSUA_FFI_CONFIG_SITE_H

/* Calls and accounts. */
#define PJSUA_MAX_CALLS              1024
#define PJSUA_MAX_ACC                64
#define PJSUA_MAX_BUDDIES            1024

/* Every call with audio needs a bridge slot, plus players, recorders and Python ports. */
#define PJSUA_MAX_CONF_PORTS         (PJSUA_MAX_CALLS + 1024)
#define PJSUA_MAX_PLAYERS            512
#define PJSUA_MAX_RECORDERS          512

/* Two media sockets per call (RTP, RTCP) and SIP transports: the default of 64 aborts
 * a process that opens more, so leave generous headroom. */
#define PJ_IOQUEUE_MAX_HANDLES       8192
#define PJ_IOQUEUE_MAX_EVENTS_IN_SINGLE_POLL 64

/* Room for a 10 kB instant message or SDP: pjsip's default (4000 bytes) rejects larger
 * messages. Every outgoing message's buffer is this big, so not more than needed. */
#define PJSIP_MAX_PKT_LEN            16384

/* Dialog hash table sized for a thousand simultaneous calls. */
#define PJSIP_MAX_DIALOG_COUNT       (4 * 1024 - 1)

/* Buckets of the transaction hash tables (two tables of pointers: 256 kB). A finished
 * transaction stays in the table until its timer ends it, up to 32 s later, so a
 * process that answers thousands of requests a second holds 100 000 or more; with the
 * default 1023 buckets every look-up walked chains hundreds long (10-20 % of the CPU
 * of a MESSAGE-heavy process, in pjlib's find_entry). */
#define PJSIP_MAX_TSX_COUNT          (16 * 1024 - 1)

/* IPv6 for media too: SIP transports on IPv6 work without it, RTP on ::1 does not. */
#define PJ_HAS_IPV6                  1

#endif
