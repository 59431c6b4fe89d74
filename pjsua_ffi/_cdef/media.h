/* pjsua media: sound devices, conference bridge, WAV players and recorders, codecs. */
typedef int pjsua_player_id;
typedef int pjsua_recorder_id;

typedef struct pjmedia_aud_dev_info {
    char name[...];
    unsigned input_count;
    unsigned output_count;
    unsigned default_samples_per_sec;
    ...;
} pjmedia_aud_dev_info;

typedef struct pjsua_codec_info {
    pj_str_t codec_id;
    pj_uint8_t priority;
    pj_str_t desc;
    ...;
} pjsua_codec_info;

typedef struct pjsua_conf_port_info {
    pjsua_conf_port_id slot_id;
    pj_str_t name;
    unsigned clock_rate;
    unsigned channel_count;
    unsigned samples_per_frame;
    unsigned bits_per_sample;
    float tx_level_adj;
    float rx_level_adj;
    unsigned listener_cnt;
    ...;
} pjsua_conf_port_info;

pj_status_t pjsua_set_null_snd_dev(void);
pj_status_t pjsua_set_snd_dev(int capture_dev, int playback_dev);
pj_status_t pjsua_get_snd_dev(int *capture_dev, int *playback_dev);
pj_status_t pjsua_enum_aud_devs(pjmedia_aud_dev_info info[], unsigned *count);
pj_bool_t pjsua_snd_is_active(void);

unsigned pjsua_conf_get_max_ports(void);
unsigned pjsua_conf_get_active_ports(void);
pj_status_t pjsua_conf_get_port_info(pjsua_conf_port_id port_id, pjsua_conf_port_info *info);
pj_status_t pjsua_conf_connect(pjsua_conf_port_id source, pjsua_conf_port_id sink);
pj_status_t pjsua_conf_disconnect(pjsua_conf_port_id source, pjsua_conf_port_id sink);
pj_status_t pjsua_conf_adjust_tx_level(pjsua_conf_port_id slot, float level);
pj_status_t pjsua_conf_adjust_rx_level(pjsua_conf_port_id slot, float level);
pj_status_t pjsua_conf_get_signal_level(pjsua_conf_port_id slot, unsigned *tx_level,
                                        unsigned *rx_level);

pj_status_t pjsua_player_create(const pj_str_t *filename, unsigned options,
                                pjsua_player_id *p_id);
pj_status_t pjsua_playlist_create(const pj_str_t file_names[], unsigned file_count,
                                  const pj_str_t *label, unsigned options,
                                  pjsua_player_id *p_id);
pjsua_conf_port_id pjsua_player_get_conf_port(pjsua_player_id id);
pj_status_t pjsua_player_set_pos(pjsua_player_id id, unsigned samples);
pj_status_t pjsua_player_destroy(pjsua_player_id id);
pj_status_t pjsua_recorder_create(const pj_str_t *filename, unsigned enc_type,
                                  void *enc_param, pj_ssize_t max_size, unsigned options,
                                  pjsua_recorder_id *p_id);
pjsua_conf_port_id pjsua_recorder_get_conf_port(pjsua_recorder_id id);
pj_status_t pjsua_recorder_destroy(pjsua_recorder_id id);

pj_status_t pjsua_enum_codecs(pjsua_codec_info id[], unsigned *count);
pj_status_t pjsua_codec_set_priority(const pj_str_t *codec_id, pj_uint8_t priority);

#define PJMEDIA_FILE_NO_LOOP ...

/* Our helpers (pjsua_ffi/_csrc/media_port.c: Python audio ports and their pump; media.c:
 * player end-of-file notices, recorder close, codec parameters, stream statistics), and
 * the pjsua media calls they need. */
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
