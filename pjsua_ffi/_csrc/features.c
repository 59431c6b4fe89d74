/* Which optional parts of pjproject this extension holds, for
 * `python -m pjsua_ffi --version` (pjsua_ffi.build_features()).
 *
 * TLS and Opus are decided by configure and written to pjproject's own headers, so the
 * macros are read here. The sound backends and SRTP are decided on pjmedia's compiler
 * command line, which this file never sees, so they are found at link time: a weak
 * reference is non-NULL only if the linker took pjmedia's object that defines the
 * symbol (and it takes that object only when pjmedia was built to use it). */
#pragma weak pjmedia_pa_factory
#pragma weak pjmedia_alsa_factory
#pragma weak pjmedia_transport_srtp_create
pjmedia_aud_dev_factory *pjmedia_pa_factory(pj_pool_factory *pf);
pjmedia_aud_dev_factory *pjmedia_alsa_factory(pj_pool_factory *pf);

static const int PJFFI_VERSION_NUM = PJ_VERSION_NUM;
static const int PJFFI_HAS_TLS = PJ_HAS_SSL_SOCK;

#define PJFFI_FEATURE_TLS        1
#define PJFFI_FEATURE_SRTP       2
#define PJFFI_FEATURE_OPUS       4
#define PJFFI_FEATURE_PORTAUDIO  8
#define PJFFI_FEATURE_ALSA      16

static int pjffi_build_features(void)
{
    int f = 0;
#if defined(PJ_HAS_SSL_SOCK) && PJ_HAS_SSL_SOCK
    f |= PJFFI_FEATURE_TLS;
#endif
#if defined(PJMEDIA_HAS_OPUS_CODEC) && PJMEDIA_HAS_OPUS_CODEC
    f |= PJFFI_FEATURE_OPUS;
#endif
    if (&pjmedia_transport_srtp_create != NULL)
        f |= PJFFI_FEATURE_SRTP;
    if (&pjmedia_pa_factory != NULL)
        f |= PJFFI_FEATURE_PORTAUDIO;
    if (&pjmedia_alsa_factory != NULL)
        f |= PJFFI_FEATURE_ALSA;
    return f;
}

static const char *pjffi_pj_version(void)
{
    return pj_get_version();
}
