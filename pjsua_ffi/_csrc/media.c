/* Media helpers of pjsua_ffi beyond the audio ports (media_port.c): player end-of-file
 * notices (through media_port.c's pump, so no Python runs on a media thread), a
 * recorder close that returns once the file is complete, codec parameters and stream
 * statistics in flat structs. */

/* ------------------------------------------------------------------ players */

static void player_eof_cb(pjmedia_port *port, void *user_data)
{
    PJ_UNUSED_ARG(port);
    pump_post_event((long)(pj_ssize_t)user_data);
}

/* Route a player's or playlist's end-of-file to the pump as event `token`. */
static int pjffi_player_watch_eof(int player_id, long token)
{
    pjmedia_port *port = NULL;
    pj_status_t status = pjsua_player_get_port(player_id, &port);
    if (status != PJ_SUCCESS)
        return status;
    if (!port)
        return PJ_EINVAL;
    if (port->info.signature == PJMEDIA_SIG_PORT_WAV_PLAYLIST)
        return pjmedia_wav_playlist_set_eof_cb2(port, (void*)(pj_ssize_t)token,
                                                &player_eof_cb);
    return pjmedia_wav_player_set_eof_cb2(port, (void*)(pj_ssize_t)token, &player_eof_cb);
}

/* ------------------------------------------------------------------ recorders */

#define PJFFI_CLOCK_STALL_MS 300

static pthread_mutex_t pjffi_gone_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pjffi_gone_cond = PTHREAD_COND_INITIALIZER;
static long pjffi_gone[64];
static unsigned pjffi_gone_n;
static long pjffi_gone_next = 1;

static void port_gone(void *member)
{
    pthread_mutex_lock(&pjffi_gone_mutex);
    pjffi_gone[pjffi_gone_n++ % 64] = (long)(pj_ssize_t)member;
    pthread_cond_broadcast(&pjffi_gone_cond);
    pthread_mutex_unlock(&pjffi_gone_mutex);
}

static int wait_gone(long token, int timeout_ms)
{
    struct timespec ts;
    unsigned i;
    int found = 0;
    deadline_in(&ts, timeout_ms);
    pthread_mutex_lock(&pjffi_gone_mutex);
    for (;;) {
        for (i = 0; i < 64 && !found; ++i)
            found = pjffi_gone[i] == token;
        if (found || pthread_cond_timedwait(&pjffi_gone_cond, &pjffi_gone_mutex, &ts) != 0)
            break;
    }
    for (i = 0; i < 64 && !found; ++i)
        found = pjffi_gone[i] == token;
    pthread_mutex_unlock(&pjffi_gone_mutex);
    return found;
}

/* pjsua_recorder_destroy() only queues the removal: the WAV header is written when the
 * bridge lets go of the port on its next tick. Wait for that, so that the file is
 * complete on return. If the bridge's clock is stopped (the sound device closed when
 * idle), reopen the current device to let the queued removal run. Returns the status
 * of pjsua_recorder_destroy; *p_done tells whether the file was closed in time. */
static int pjffi_recorder_destroy_sync(int rec_id, int timeout_ms, int *p_done)
{
    pjmedia_port *port = NULL;
    pj_status_t status;
    long token = 0;

    *p_done = 0;
    status = pjsua_recorder_get_port(rec_id, &port);
    if (status != PJ_SUCCESS)
        return status;
    if (port && port->grp_lock) {
        pthread_mutex_lock(&pjffi_gone_mutex);
        token = pjffi_gone_next++;
        pthread_mutex_unlock(&pjffi_gone_mutex);
        if (pj_grp_lock_add_handler(port->grp_lock, NULL, (void*)(pj_ssize_t)token,
                                    &port_gone) != PJ_SUCCESS)
            token = 0;
    }
    status = pjsua_recorder_destroy(rec_id);
    if (status != PJ_SUCCESS || token == 0) {
        *p_done = (status == PJ_SUCCESS);
        return status;
    }
    /* A ticking clock releases the port within a frame or two. */
    if (wait_gone(token, timeout_ms < PJFFI_CLOCK_STALL_MS ? timeout_ms : PJFFI_CLOCK_STALL_MS)) {
        *p_done = 1;
        return PJ_SUCCESS;
    }
    {
        int cap = 0, play = 0;
        if (pjsua_get_snd_dev(&cap, &play) == PJ_SUCCESS)
            pjsua_set_snd_dev(cap, play);
    }
    *p_done = wait_gone(token, timeout_ms > PJFFI_CLOCK_STALL_MS ?
                                   timeout_ms - PJFFI_CLOCK_STALL_MS : 1);
    return PJ_SUCCESS;
}

/* ------------------------------------------------------------------ codecs */

typedef struct pjffi_codec_param {
    unsigned clock_rate;
    unsigned channel_cnt;
    unsigned avg_bps;
    unsigned max_bps;
    unsigned frm_ptime;
    unsigned frm_per_pkt;
    unsigned pt;
    int vad;
    int cng;
    int penh;
    int plc;
} pjffi_codec_param;

static int pjffi_codec_get_param(const pj_str_t *codec_id, pjffi_codec_param *out)
{
    pjmedia_codec_param p;
    pj_status_t status = pjsua_codec_get_param(codec_id, &p);
    if (status != PJ_SUCCESS)
        return status;
    out->clock_rate = p.info.clock_rate;
    out->channel_cnt = p.info.channel_cnt;
    out->avg_bps = p.info.avg_bps;
    out->max_bps = p.info.max_bps;
    out->frm_ptime = p.info.frm_ptime;
    out->frm_per_pkt = p.setting.frm_per_pkt;
    out->pt = p.info.pt;
    out->vad = p.setting.vad;
    out->cng = p.setting.cng;
    out->penh = p.setting.penh;
    out->plc = p.setting.plc;
    return PJ_SUCCESS;
}

/* Change frames per packet, VAD and PLC of a codec; the rest stays as it is. */
static int pjffi_codec_set_param(const pj_str_t *codec_id, unsigned frm_per_pkt, int vad,
                                 int plc)
{
    pjmedia_codec_param p;
    pj_status_t status = pjsua_codec_get_param(codec_id, &p);
    if (status != PJ_SUCCESS)
        return status;
    if (frm_per_pkt < 1 || frm_per_pkt > 255)
        return PJ_EINVAL;
    p.setting.frm_per_pkt = (pj_uint8_t)frm_per_pkt;
    p.setting.vad = vad ? 1 : 0;
    p.setting.plc = plc ? 1 : 0;
    return pjsua_codec_set_param(codec_id, &p);
}

/* ------------------------------------------------------------------ stream statistics */

typedef struct pjffi_stream_stats {
    char codec[32];
    unsigned clock_rate;
    unsigned ptime;
    int vad;
    unsigned tx_pkt;
    unsigned rx_pkt;
    unsigned rx_loss;
    unsigned rx_discard;
    unsigned jb_frame_size;
    unsigned jb_min_prefetch;
    unsigned jb_max_prefetch;
    unsigned jb_max_count;
    unsigned jb_size;
    unsigned jb_avg_delay;
} pjffi_stream_stats;

/* Figures of the first audio stream of a call. */
static int pjffi_call_stream_stats(int call_id, pjffi_stream_stats *out)
{
    pjsua_stream_info si;
    pjsua_stream_stat st;
    unsigned i;
    pj_status_t status = PJ_ENOTFOUND;

    pj_bzero(out, sizeof(*out));
    for (i = 0; i < PJMEDIA_MAX_SDP_MEDIA; ++i) {
        status = pjsua_call_get_stream_info(call_id, i, &si);
        if (status != PJ_SUCCESS)
            return status;
        if (si.type == PJMEDIA_TYPE_AUDIO)
            break;
    }
    if (i == PJMEDIA_MAX_SDP_MEDIA)
        return PJ_ENOTFOUND;
    pj_ansi_snprintf(out->codec, sizeof(out->codec), "%.*s",
                     (int)si.info.aud.fmt.encoding_name.slen,
                     si.info.aud.fmt.encoding_name.ptr);
    out->clock_rate = si.info.aud.fmt.clock_rate;
    if (si.info.aud.param) {
        out->ptime = si.info.aud.param->info.frm_ptime * si.info.aud.param->setting.frm_per_pkt;
        out->vad = si.info.aud.param->setting.vad;
    }
    status = pjsua_call_get_stream_stat(call_id, i, &st);
    if (status != PJ_SUCCESS)
        return status;
    out->tx_pkt = st.rtcp.tx.pkt;
    out->rx_pkt = st.rtcp.rx.pkt;
    out->rx_loss = st.rtcp.rx.loss;
    out->rx_discard = st.rtcp.rx.discard;
    out->jb_frame_size = st.jbuf.frame_size;
    out->jb_min_prefetch = st.jbuf.min_prefetch;
    out->jb_max_prefetch = st.jbuf.max_prefetch;
    out->jb_max_count = st.jbuf.max_count;
    out->jb_size = st.jbuf.size;
    out->jb_avg_delay = st.jbuf.avg_delay;
    return PJ_SUCCESS;
}
