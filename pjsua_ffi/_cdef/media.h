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
