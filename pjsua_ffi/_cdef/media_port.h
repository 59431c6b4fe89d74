/* Media helpers (pjsua_ffi/_csrc/media_port.c): Python audio ports and their pump,
 * player end-of-file notices, recorder close, codec parameters, stream statistics,
 * and the pjsua media calls they need beyond media.h. */
typedef struct pjffi_aport pjffi_aport;

typedef struct pjffi_aport_stats {
    unsigned long frames;
    unsigned long underruns;
    unsigned long dropped;
    unsigned long eof_count;
    unsigned long position;
    unsigned long fill;
    unsigned long capacity;
    int finished;
} pjffi_aport_stats;

enum pjffi_aport_kind {
    PJFFI_SOURCE_ARRAY = 1,
    PJFFI_SOURCE_RING = 2,
    PJFFI_SINK = 3
};

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

static const int PJFFI_PUMP_MAX_READY;
static const int PJFFI_PUMP_MAX_EVENTS;

int pjffi_pump_wait(int timeout_ms, long *tokens, int max_tokens, long *events,
                    int max_events, int *n_events);
void pjffi_pump_set_stop(int stop);

int pjffi_aport_create(int kind, const char *name, unsigned clock_rate, unsigned spf,
                       unsigned long ring, unsigned long wake, const int16_t *data,
                       unsigned long len, int loop, long token, pjffi_aport **p_port,
                       int *p_slot);
int pjffi_aport_close(pjffi_aport *p, int slot);
unsigned long pjffi_aport_write(pjffi_aport *p, const int16_t *data, unsigned long n);
unsigned long pjffi_aport_read(pjffi_aport *p, int16_t *out, unsigned long max);
void pjffi_aport_finish(pjffi_aport *p);
unsigned long pjffi_aport_room(pjffi_aport *p, unsigned long *eof_count);
void pjffi_aport_seek(pjffi_aport *p, unsigned long pos);
void pjffi_aport_get_stats(pjffi_aport *p, pjffi_aport_stats *s);

int pjffi_player_watch_eof(int player_id, long token);
int pjffi_player_is_playlist(int player_id);
int pjffi_recorder_destroy_sync(int rec_id, int timeout_ms, int *p_done);

int pjffi_codec_get_param(const pj_str_t *codec_id, pjffi_codec_param *out);
int pjffi_codec_set_param(const pj_str_t *codec_id, unsigned frm_per_pkt, int vad, int plc);
int pjffi_call_stream_stats(int call_id, pjffi_stream_stats *out);

/* pjsua media calls not in media.h. */
typedef struct pjmedia_wav_player_info {
    unsigned payload_bits_per_sample;
    uint32_t size_bytes;
    uint32_t size_samples;
    ...;
} pjmedia_wav_player_info;

pj_ssize_t pjsua_player_get_pos(pjsua_player_id id);
pj_status_t pjsua_player_get_info(pjsua_player_id id, pjmedia_wav_player_info *info);
pj_status_t pjsua_set_ec(unsigned tail_ms, unsigned options);
pj_status_t pjsua_get_ec_tail(unsigned *p_tail_ms);
#define PJ_ETOOMANY ...
#define PJ_ETIMEDOUT ...
