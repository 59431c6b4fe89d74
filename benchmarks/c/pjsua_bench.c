/* pjsua_bench: the C peer of the benchmarks (see benchmarks/README.md).
 *
 * The same loopback workloads as the Python peers in benchmarks/peers/, written
 * directly on the pjsua C API: what a binding could reach if it added nothing.
 * benchmarks/run.py compiles it with the flags from vendor/pjproject/build.mak and
 * talks to it through the line protocol described in benchmarks/peers/common.py:
 *
 *   @@READY <sip port>     started; a caller then waits for "go" on stdin
 *   @@HELD <n>             (hold) n calls with audio are up; waits for a line on stdin
 *   @@RAMPED <n> <reason>  (ramp) stopped adding calls; holds them for --hold-seconds
 *   @@RESULT <json>        the workload's figures; the process then idles until stdin
 *                          closes (or it is killed) and exits without tearing down
 *
 * Usage: pjsua_bench --role callee|caller [--port P] [--target PORT] [--workload W]
 *        [--n N] [--seconds S] [--warmup N] [--rtt-n N] [--rtt-seconds S]
 *        [--window N] [--cap N] [--batch N] [--hold-seconds S] [--max-calls N]
 *        [--loop 1]
 *
 * With --loop 1 the program has the shape of an event loop: pjsua runs without worker
 * threads, the main thread polls it (pjsua_handle_events) and the callbacks drive the
 * workloads themselves (CONFIRMED hangs up, DISCONNECTED makes the next call, a
 * MESSAGE's status sends the next): the limit for a Python program in event-loop mode.
 */
#include <pjsua-lib/pjsua.h>

#include "bench_ua.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define HAS_TXT_STREAM (PJ_VERSION_NUM >= ((2 << 24) | (17 << 16)))
#define MAX_SAMPLES 200000

typedef struct options {
    int caller;
    int port;
    int target;
    const char *workload;
    int n;
    double seconds;
    int warmup;
    int rtt_n;
    double rtt_seconds;
    int window;
    int cap;
    int batch;
    double hold_seconds;
    int max_calls;
    int loop;
} options;

static options opt = {0, 0, 0, "idle", 1000, 5.0, 10, 500, 2.0, 32, 600, 50, 5.0, 1024, 0};

/* Everything the callbacks report, guarded by one mutex. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int audio_mode;                    /* connect calls to the bridge (hold, ramp) */
static char call_confirmed[PJSUA_MAX_CALLS];
static char call_media[PJSUA_MAX_CALLS];
static char call_gone[PJSUA_MAX_CALLS];
static double confirmed_at[PJSUA_MAX_CALLS];
static int n_confirmed, n_media, n_gone;
static long msg_ok, msg_fail, msg_rx;
static double last_status_at;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void deadline_at(struct timespec *ts, double seconds)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += (time_t)seconds;
    ts->tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec += 1;
        ts->tv_nsec -= 1000000000L;
    }
}

static void no_text(pjsua_call_setting *s)
{
#if HAS_TXT_STREAM
    if (s)
        s->txt_cnt = 0;   /* a text stream stalls every hangup by up to 300 ms */
#else
    PJ_UNUSED_ARG(s);
#endif
}

/* ------------------------------------------------------------------ event-loop shape */

static pj_status_t make_call(pjsua_acc_id acc, const pj_str_t *uri, pjsua_call_id *id);
static pj_status_t send_message(pjsua_acc_id acc, const pj_str_t *uri, long seq);

/* Sequential calls driven by the callbacks (--loop 1). */
static struct {
    int active, done, i, count, failures;
    pjsua_call_id cur;
    double start, t0, deadline;
    long *lat;
    const char *error;
    pjsua_acc_id acc;
    const pj_str_t *uri;
} lc;

static void loop_calls_next(void)
{
    pjsua_call_id id;
    if (lc.i == opt.warmup)
        lc.start = now();
    if (lc.i >= opt.warmup + opt.n ||
        (lc.i >= opt.warmup && (lc.count >= MAX_SAMPLES || now() - lc.start >= opt.seconds))) {
        lc.done = 1;
        return;
    }
    lc.t0 = now();
    lc.deadline = lc.t0 + 5.0;
    if (make_call(lc.acc, lc.uri, &id) != PJ_SUCCESS) {
        lc.error = "make_call";
        lc.done = 1;
        return;
    }
    lc.cur = id;
}

static void loop_calls_on_state(pjsua_call_id id, pjsip_inv_state state, double t)
{
    if (id != lc.cur || lc.done)
        return;
    if (state == PJSIP_INV_STATE_CONFIRMED) {
        if (lc.i >= opt.warmup)
            lc.lat[lc.count++] = (long)((t - lc.t0) * 1e6);
        lc.deadline = now() + 5.0;
        pjsua_call_hangup(id, 0, NULL, NULL);
    } else if (state == PJSIP_INV_STATE_DISCONNECTED) {
        if (!call_confirmed[id])
            lc.failures++;
        call_confirmed[id] = call_media[id] = call_gone[id] = 0;
        lc.cur = PJSUA_INVALID_ID;
        lc.i++;
        loop_calls_next();
    }
}

/* MESSAGE round trips, then a window in flight, driven by the statuses (--loop 1). */
static struct {
    int active, phase, done, i, rtt_count;
    long sent, ok, fail;
    double start, t0, last, deadline;
    long *rtt;
    pjsua_acc_id acc;
    const pj_str_t *uri;
} lm;

static void loop_msgs_fill(void)
{
    while (lm.sent - (lm.ok + lm.fail) < opt.window && lm.sent < opt.n &&
           now() - lm.start < opt.seconds) {
        if (send_message(lm.acc, lm.uri, lm.sent) != PJ_SUCCESS)
            break;
        lm.sent++;
    }
    lm.deadline = now() + 5.0;
    if (lm.ok + lm.fail >= lm.sent)
        lm.done = 1;   /* nothing in flight and nothing more to send */
}

static void loop_msgs_rtt_next(void)
{
    if (lm.i == opt.warmup)
        lm.start = now();
    if (lm.i >= opt.warmup + opt.rtt_n ||
        (lm.i >= opt.warmup && (lm.rtt_count >= MAX_SAMPLES ||
                                now() - lm.start >= opt.rtt_seconds))) {
        lm.phase = 1;
        lm.start = now();
        loop_msgs_fill();
        return;
    }
    lm.t0 = now();
    lm.deadline = lm.t0 + 5.0;
    if (send_message(lm.acc, lm.uri, lm.i) != PJ_SUCCESS)
        lm.done = 1;
}

static void loop_msgs_on_status(int status, double t)
{
    if (lm.done)
        return;
    if (lm.phase == 0) {
        if (lm.i >= opt.warmup)
            lm.rtt[lm.rtt_count++] = (long)((t - lm.t0) * 1e6);
        lm.i++;
        loop_msgs_rtt_next();
        return;
    }
    if (status / 100 == 2)
        lm.ok++;
    else
        lm.fail++;
    lm.last = t;
    loop_msgs_fill();
}

/* Lines read from stdin by the reader thread (--loop 1); end of input ends the process. */
static volatile int lines_read;

static void *stdin_reader(void *arg)
{
    char line[64];
    PJ_UNUSED_ARG(arg);
    while (fgets(line, sizeof(line), stdin))
        __sync_fetch_and_add(&lines_read, 1);
    _exit(0);
    return NULL;
}

/* Poll pjsua until `lines` lines were read from stdin (--loop 1). */
static void loop_until_lines(int lines)
{
    while (lines_read < lines)
        pjsua_handle_events(10);
}

static void loop_for(double seconds)
{
    double end = now() + seconds;
    while (now() < end)
        pjsua_handle_events(10);
}

/* Poll pjsua until *done, or the deadline *deadline (moved by the workload) passes. */
static int loop_until_done(volatile int *done, volatile double *deadline)
{
    while (!*done) {
        pjsua_handle_events(10);
        if (now() > *deadline)
            return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ callbacks */

static void on_incoming_call(pjsua_acc_id acc_id, pjsua_call_id call_id, pjsip_rx_data *rdata)
{
    pjsua_call_setting s;
    PJ_UNUSED_ARG(acc_id);
    PJ_UNUSED_ARG(rdata);
    pjsua_call_setting_default(&s);
    no_text(&s);
    pjsua_call_answer2(call_id, &s, 200, NULL, NULL);
}

static void on_call_rx_offer(pjsua_call_id call_id, const pjmedia_sdp_session *offer,
                             void *reserved, pjsip_status_code *code, pjsua_call_setting *s)
{
    PJ_UNUSED_ARG(call_id); PJ_UNUSED_ARG(offer); PJ_UNUSED_ARG(reserved); PJ_UNUSED_ARG(code);
    no_text(s);
}

static void on_call_state(pjsua_call_id call_id, pjsip_event *e)
{
    pjsua_call_info ci;
    double t = now();
    PJ_UNUSED_ARG(e);
    if (pjsua_call_get_info(call_id, &ci) != PJ_SUCCESS)
        return;
    pthread_mutex_lock(&mu);
    if (ci.state == PJSIP_INV_STATE_CONFIRMED && !call_confirmed[call_id]) {
        call_confirmed[call_id] = 1;
        confirmed_at[call_id] = t;
        n_confirmed++;
    } else if (ci.state == PJSIP_INV_STATE_DISCONNECTED && !call_gone[call_id]) {
        call_gone[call_id] = 1;
        n_gone++;
    }
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    if (lc.active)
        loop_calls_on_state(call_id, ci.state, t);
}

static void on_call_media_state(pjsua_call_id call_id)
{
    pjsua_call_info ci;
    if (pjsua_call_get_info(call_id, &ci) != PJ_SUCCESS)
        return;
    if (ci.media_status != PJSUA_CALL_MEDIA_ACTIVE)
        return;
    if (audio_mode) {
        pjsua_conf_port_id slot = pjsua_call_get_conf_port(call_id);
        if (slot != PJSUA_INVALID_ID) {
            pjsua_conf_connect(slot, 0);
            pjsua_conf_connect(0, slot);
        }
    }
    pthread_mutex_lock(&mu);
    if (!call_media[call_id]) {
        call_media[call_id] = 1;
        n_media++;
    }
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void on_pager2(pjsua_call_id call_id, const pj_str_t *from, const pj_str_t *to,
                      const pj_str_t *contact, const pj_str_t *mime_type, const pj_str_t *body,
                      pjsip_rx_data *rdata, pjsua_acc_id acc_id)
{
    PJ_UNUSED_ARG(call_id); PJ_UNUSED_ARG(from); PJ_UNUSED_ARG(to); PJ_UNUSED_ARG(contact);
    PJ_UNUSED_ARG(mime_type); PJ_UNUSED_ARG(body); PJ_UNUSED_ARG(rdata); PJ_UNUSED_ARG(acc_id);
    pthread_mutex_lock(&mu);
    msg_rx++;
    pthread_mutex_unlock(&mu);
}

static void on_pager_status2(pjsua_call_id call_id, const pj_str_t *to, const pj_str_t *body,
                             void *user_data, pjsip_status_code status, const pj_str_t *reason,
                             pjsip_tx_data *tdata, pjsip_rx_data *rdata, pjsua_acc_id acc_id)
{
    double t = now();
    PJ_UNUSED_ARG(call_id); PJ_UNUSED_ARG(to); PJ_UNUSED_ARG(body); PJ_UNUSED_ARG(user_data);
    PJ_UNUSED_ARG(reason); PJ_UNUSED_ARG(tdata); PJ_UNUSED_ARG(rdata); PJ_UNUSED_ARG(acc_id);
    pthread_mutex_lock(&mu);
    if (status / 100 == 2)
        msg_ok++;
    else
        msg_fail++;
    last_status_at = t;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    if (lm.active)
        loop_msgs_on_status(status, t);
}

/* Wait (mutex held) until *a or *b is set or the timeout passes; 0 on timeout. */
static int wait_flags(const char *a, const char *b, double timeout)
{
    struct timespec ts;
    deadline_at(&ts, timeout);
    while (!*a && !*b) {
        if (pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT)
            return *a || *b;
    }
    return 1;
}

/* ------------------------------------------------------------------ output */

static void print_json_list(const char *name, const long *values, int count)
{
    int i;
    printf("\"%s\": [", name);
    for (i = 0; i < count; ++i)
        printf(i ? ",%ld" : "%ld", values[i]);
    printf("]");
}

static void result_error(const char *what, pj_status_t status)
{
    char buf[160];
    pj_strerror(status, buf, sizeof(buf));
    printf("@@RESULT {\"error\": \"%s: %s\"}\n", what, buf);
    fflush(stdout);
}

/* ------------------------------------------------------------------ workloads */

static pj_status_t make_call(pjsua_acc_id acc, const pj_str_t *uri, pjsua_call_id *id)
{
    pjsua_call_setting s;
    pjsua_call_setting_default(&s);
    no_text(&s);
    return pjsua_call_make_call(acc, uri, &s, NULL, NULL, id);
}

static void workload_calls(pjsua_acc_id acc, const pj_str_t *uri)
{
    static long lat_us[MAX_SAMPLES];
    if (opt.loop) {
        lc.lat = lat_us;
        lc.acc = acc;
        lc.uri = uri;
        lc.cur = PJSUA_INVALID_ID;
        lc.start = now();
        lc.active = 1;
        loop_calls_next();
        if (!loop_until_done(&lc.done, &lc.deadline))
            lc.error = "no answer or end of call within 5 s";
        lc.active = 0;
        printf("@@RESULT {\"n\": %d, \"seconds\": %.6f, \"failures\": %d, ", lc.count,
               now() - lc.start, lc.failures);
        if (lc.error)
            printf("\"error\": \"%s\", ", lc.error);
        print_json_list("lat_us", lat_us, lc.count);
        printf("}\n");
        fflush(stdout);
        return;
    }
    int count = 0, failures = 0, i;
    double start = now(), t0;
    const char *error = NULL;
    pj_status_t status = PJ_SUCCESS;

    for (i = 0; i < opt.warmup + opt.n; ++i) {
        pjsua_call_id id;
        if (i == opt.warmup)
            start = now();
        if (i >= opt.warmup && (count >= MAX_SAMPLES || now() - start >= opt.seconds))
            break;
        t0 = now();
        status = make_call(acc, uri, &id);
        if (status != PJ_SUCCESS) {
            error = "make_call";
            break;
        }
        pthread_mutex_lock(&mu);
        if (!wait_flags(&call_confirmed[id], &call_gone[id], 5.0)) {
            pthread_mutex_unlock(&mu);
            error = "no answer within 5 s";
            break;
        }
        if (!call_confirmed[id] || call_gone[id]) {
            failures++;
        } else if (i >= opt.warmup) {
            lat_us[count++] = (long)((confirmed_at[id] - t0) * 1e6);
        }
        pthread_mutex_unlock(&mu);
        pjsua_call_hangup(id, 0, NULL, NULL);
        pthread_mutex_lock(&mu);
        if (!wait_flags(&call_gone[id], &call_gone[id], 5.0)) {
            pthread_mutex_unlock(&mu);
            error = "no end of call within 5 s";
            break;
        }
        /* pjsua reuses the id: clear its flags for the next call. */
        call_confirmed[id] = call_media[id] = call_gone[id] = 0;
        pthread_mutex_unlock(&mu);
    }
    if (error && status != PJ_SUCCESS) {
        result_error(error, status);
        return;
    }
    printf("@@RESULT {\"n\": %d, \"seconds\": %.6f, \"failures\": %d, ", count,
           now() - start, failures);
    if (error)
        printf("\"error\": \"%s\", ", error);
    print_json_list("lat_us", lat_us, count);
    printf("}\n");
    fflush(stdout);
}

static pj_status_t send_message(pjsua_acc_id acc, const pj_str_t *uri, long seq)
{
    static const pj_str_t mime = {"text/plain", 10};
    char text[64];
    pj_str_t body;
    body.ptr = text;
    body.slen = snprintf(text, sizeof(text), "benchmark message %ld", seq);
    return pjsua_im_send(acc, uri, &mime, &body, NULL, NULL);
}

static void workload_msgs(pjsua_acc_id acc, const pj_str_t *uri)
{
    static long rtt_us[MAX_SAMPLES];
    int rtt_count = 0, i;
    long sent = 0, done, base_ok, base_fail;
    double start = now(), t0, end;
    pj_status_t status;
    struct timespec ts;

    if (opt.loop) {
        lm.rtt = rtt_us;
        lm.acc = acc;
        lm.uri = uri;
        lm.active = 1;
        loop_msgs_rtt_next();
        if (!loop_until_done(&lm.done, &lm.deadline) && lm.phase == 0) {
            printf("@@RESULT {\"error\": \"no MESSAGE status within 5 s\"}\n");
            fflush(stdout);
            return;
        }
        lm.active = 0;
        end = lm.last > lm.start ? lm.last : now();
        printf("@@RESULT {\"tput_n\": %ld, \"tput_failed\": %ld, \"tput_sent\": %ld, "
               "\"tput_seconds\": %.6f, ", lm.ok, lm.fail, lm.sent, end - lm.start);
        print_json_list("rtt_us", rtt_us, lm.rtt_count);
        printf("}\n");
        fflush(stdout);
        return;
    }

    /* Round trip: one MESSAGE at a time (after a short warm-up). */
    for (i = 0; i < opt.warmup + opt.rtt_n; ++i) {
        long before;
        if (i == opt.warmup)
            start = now();
        if (i >= opt.warmup && (rtt_count >= MAX_SAMPLES || now() - start >= opt.rtt_seconds))
            break;
        pthread_mutex_lock(&mu);
        before = msg_ok + msg_fail;
        pthread_mutex_unlock(&mu);
        t0 = now();
        status = send_message(acc, uri, i);
        if (status != PJ_SUCCESS) {
            result_error("im_send", status);
            return;
        }
        pthread_mutex_lock(&mu);
        deadline_at(&ts, 5.0);
        while (msg_ok + msg_fail == before) {
            if (pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT)
                break;
        }
        if (msg_ok + msg_fail == before) {
            pthread_mutex_unlock(&mu);
            printf("@@RESULT {\"error\": \"no MESSAGE status within 5 s\"}\n");
            fflush(stdout);
            return;
        }
        if (i >= opt.warmup)
            rtt_us[rtt_count++] = (long)((last_status_at - t0) * 1e6);
        pthread_mutex_unlock(&mu);
    }

    /* Throughput: up to --window MESSAGEs in flight. */
    pthread_mutex_lock(&mu);
    base_ok = msg_ok;
    base_fail = msg_fail;
    pthread_mutex_unlock(&mu);
    start = now();
    while (sent < opt.n && now() - start < opt.seconds) {
        pthread_mutex_lock(&mu);
        deadline_at(&ts, 5.0);
        while (sent - (msg_ok - base_ok + msg_fail - base_fail) >= opt.window) {
            if (pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT)
                break;
        }
        done = msg_ok - base_ok + msg_fail - base_fail;
        pthread_mutex_unlock(&mu);
        if (sent - done >= opt.window)
            break;
        if (send_message(acc, uri, sent) != PJ_SUCCESS)
            break;
        sent++;
    }
    pthread_mutex_lock(&mu);
    deadline_at(&ts, 5.0);
    while (msg_ok - base_ok + msg_fail - base_fail < sent) {
        if (pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT)
            break;
    }
    end = last_status_at > start ? last_status_at : now();
    printf("@@RESULT {\"tput_n\": %ld, \"tput_failed\": %ld, \"tput_sent\": %ld, "
           "\"tput_seconds\": %.6f, ", msg_ok - base_ok, msg_fail - base_fail, sent,
           end - start);
    pthread_mutex_unlock(&mu);
    print_json_list("rtt_us", rtt_us, rtt_count);
    printf("}\n");
    fflush(stdout);
}

/* Start calls in batches until `target` are up with audio; returns how many are. */
static int add_calls(pjsua_acc_id acc, const pj_str_t *uri, int target, char *reason,
                     size_t reason_len)
{
    int made = 0;
    struct timespec ts;
    while (made < target) {
        int want = made + opt.batch < target ? made + opt.batch : target;
        for (; made < want; ++made) {
            pjsua_call_id id;
            pj_status_t status = make_call(acc, uri, &id);
            if (status != PJ_SUCCESS) {
                char buf[120];
                pj_strerror(status, buf, sizeof(buf));
                snprintf(reason, reason_len, "make_call failed at call %d: %s", made + 1, buf);
                goto wait_batch;
            }
        }
wait_batch:
        if (opt.loop) {
            double end = now() + 15.0;
            while ((n_confirmed < made || n_media < made) && n_gone == 0 && now() < end)
                pjsua_handle_events(10);
        }
        pthread_mutex_lock(&mu);
        deadline_at(&ts, 15.0);
        while (!opt.loop && (n_confirmed < made || n_media < made) && n_gone == 0) {
            if (pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT)
                break;
        }
        if (reason[0]) {
            /* keep the first reason */
        } else if (n_gone) {
            snprintf(reason, reason_len, "%d calls ended by themselves", n_gone);
        } else if (n_confirmed < made || n_media < made) {
            snprintf(reason, reason_len, "only %d of %d calls up after 15 s",
                     n_confirmed < n_media ? n_confirmed : n_media, made);
        }
        pthread_mutex_unlock(&mu);
        if (reason[0])
            break;
    }
    pthread_mutex_lock(&mu);
    made = n_media < n_confirmed ? n_media : n_confirmed;
    made -= n_gone;
    pthread_mutex_unlock(&mu);
    return made;
}

static void workload_hold(pjsua_acc_id acc, const pj_str_t *uri)
{
    char reason[200] = "";
    char line[64];
    int up = add_calls(acc, uri, opt.n, reason, sizeof(reason));
    printf("@@HELD %d\n", up);
    fflush(stdout);
    if (opt.loop)
        loop_until_lines(2);   /* "go", then the line that releases the calls */
    else if (!fgets(line, sizeof(line), stdin))
        line[0] = 0;
    printf("@@RESULT {\"held\": %d, \"reason\": \"%s\"}\n", up, reason);
    fflush(stdout);
}

static void workload_ramp(pjsua_acc_id acc, const pj_str_t *uri)
{
    char reason[200] = "";
    int up = add_calls(acc, uri, opt.cap, reason, sizeof(reason));
    int alive;
    if (!reason[0])
        snprintf(reason, sizeof(reason), "cap reached");
    printf("@@RAMPED %d %s\n", up, reason);
    fflush(stdout);
    if (opt.loop)
        loop_for(opt.hold_seconds);
    else
        usleep((useconds_t)(opt.hold_seconds * 1e6));
    pthread_mutex_lock(&mu);
    alive = (n_confirmed < n_media ? n_confirmed : n_media) - n_gone;
    pthread_mutex_unlock(&mu);
    printf("@@RESULT {\"reached\": %d, \"held\": %d, \"reason\": \"%s\"}\n", up, alive, reason);
    fflush(stdout);
}

/* ------------------------------------------------------------------ setup */

static void parse_args(int argc, char *argv[])
{
    int i;
    for (i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--role")) opt.caller = !strcmp(v, "caller");
        else if (!strcmp(k, "--port")) opt.port = atoi(v);
        else if (!strcmp(k, "--target")) opt.target = atoi(v);
        else if (!strcmp(k, "--workload")) opt.workload = v;
        else if (!strcmp(k, "--n")) opt.n = atoi(v);
        else if (!strcmp(k, "--seconds")) opt.seconds = atof(v);
        else if (!strcmp(k, "--warmup")) opt.warmup = atoi(v);
        else if (!strcmp(k, "--rtt-n")) opt.rtt_n = atoi(v);
        else if (!strcmp(k, "--rtt-seconds")) opt.rtt_seconds = atof(v);
        else if (!strcmp(k, "--window")) opt.window = atoi(v);
        else if (!strcmp(k, "--cap")) opt.cap = atoi(v);
        else if (!strcmp(k, "--batch")) opt.batch = atoi(v);
        else if (!strcmp(k, "--hold-seconds")) opt.hold_seconds = atof(v);
        else if (!strcmp(k, "--max-calls")) opt.max_calls = atoi(v);
        else if (!strcmp(k, "--loop")) opt.loop = atoi(v);
        else {
            fprintf(stderr, "pjsua_bench: unknown option %s\n", k);
            exit(2);
        }
    }
    if (opt.batch < 1)
        opt.batch = 1;
    if (opt.window < 1)
        opt.window = 1;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char *argv[])
{
    pjsua_callback cb;
    pjsua_acc_id acc_id;
    char target_uri[80], line[64];
    pj_str_t uri;
    const char *what = NULL;
    int sip_port = 0;
    pj_status_t status;

    parse_args(argc, argv);
    raise_fd_limit();
    if (opt.loop)
        bench_ua_threads = 0;   /* the main thread polls pjsua */
    audio_mode = !strcmp(opt.workload, "hold") || !strcmp(opt.workload, "ramp");

    pj_bzero(&cb, sizeof(cb));
    cb.on_incoming_call = &on_incoming_call;
    cb.on_call_state = &on_call_state;
    cb.on_call_media_state = &on_call_media_state;
    cb.on_call_rx_offer = &on_call_rx_offer;
    cb.on_pager2 = &on_pager2;
    cb.on_pager_status2 = &on_pager_status2;
    status = bench_ua_start(&cb, opt.port, opt.max_calls, &acc_id, &sip_port, &what);
    if (status != PJ_SUCCESS) {
        result_error(what, status);
        return 1;
    }

    printf("@@READY %d\n", sip_port);
    fflush(stdout);
    if (opt.loop) {
        pthread_t reader;
        if (pthread_create(&reader, NULL, &stdin_reader, NULL) != 0)
            return 1;
        if (opt.caller)
            loop_until_lines(1);
        else
            for (;;)
                pjsua_handle_events(1000);   /* the callee serves until stdin closes */
    } else if (!opt.caller) {
        /* The callee runs until it is stopped (stdin closed or a signal). */
        while (fgets(line, sizeof(line), stdin))
            ;
        _exit(0);
    }
    if (!opt.loop && !fgets(line, sizeof(line), stdin))
        _exit(0);
    snprintf(target_uri, sizeof(target_uri), "sip:peer@127.0.0.1:%d", opt.target);
    uri = pj_str(target_uri);
    if (!strcmp(opt.workload, "calls"))
        workload_calls(acc_id, &uri);
    else if (!strcmp(opt.workload, "msgs"))
        workload_msgs(acc_id, &uri);
    else if (!strcmp(opt.workload, "hold"))
        workload_hold(acc_id, &uri);
    else if (!strcmp(opt.workload, "ramp"))
        workload_ramp(acc_id, &uri);
    else
        printf("@@RESULT {\"error\": \"unknown workload %s\"}\n", opt.workload);
    fflush(stdout);
    /* Teardown is not measured: idle until stdin closes, then leave without hanging up. */
    if (opt.loop)
        for (;;)
            pjsua_handle_events(1000);
    while (fgets(line, sizeof(line), stdin))
        ;
    _exit(0);
}
