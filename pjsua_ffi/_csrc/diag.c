/* Diagnostics: a C stack on a fatal signal, ALSA and JACK messages sent to our log
 * instead of stderr, and the pool counters the leak checks read. */
#include <alsa/asoundlib.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <signal.h>
#include <stdarg.h>

/* ALSA and JACK print to stderr when there is no sound card or server. Their
 * messages go to our log instead, at trace level (6), so quiet logging stays quiet. */
static void quiet_alsa(const char *file, int line, const char *function, int err,
                       const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    int n;
    PJ_UNUSED_ARG(file); PJ_UNUSED_ARG(line); PJ_UNUSED_ARG(function); PJ_UNUSED_ARG(err);
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0 && atomic_load(&pjffi_log_on))
        pjffi_py_log(6, buf, n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1);
}

static void quiet_jack(const char *msg)
{
    if (msg && atomic_load(&pjffi_log_on))
        pjffi_py_log(6, msg, (int)strlen(msg));
}

static void pjffi_quiet_audio_backends(void)
{
    typedef void (*set_fn)(void (*)(const char *));
    set_fn f;
    snd_lib_error_set_handler(&quiet_alsa);
    f = (set_fn)dlsym(RTLD_DEFAULT, "jack_set_error_function");
    if (f)
        f(&quiet_jack);
    f = (set_fn)dlsym(RTLD_DEFAULT, "jack_set_info_function");
    if (f)
        f(&quiet_jack);
}

/* ------------------------------------------------------------------ pools */

/* Pools in use, and bytes cached for reuse, in pjsua's pool factory (leak checks). */
static long pjffi_pool_used(void)
{
    pj_caching_pool *cp = (pj_caching_pool*)pjsua_get_pool_factory();
    return cp ? (long)cp->used_count : -1;
}

static long pjffi_pool_cached(void)
{
    pj_caching_pool *cp = (pj_caching_pool*)pjsua_get_pool_factory();
    return cp ? (long)cp->capacity : -1;
}

/* ------------------------------------------------------------------ crash report
 *
 * A crash inside pjsua's own threads leaves Python's faulthandler with "<no Python
 * frame>". On SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT this prints the C stack of
 * the crashing thread to stderr first (addresses resolve with addr2line against the
 * extension), then hands the signal to the handler that was there before (Python's
 * faulthandler, or the default action).
 */

static const int pjffi_fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
static struct sigaction pjffi_old_actions[PJ_ARRAY_SIZE(pjffi_fatal_signals)];
static int pjffi_crash_installed;

static void on_fatal_signal(int sig)
{
    static const char head[] = "\npjsua-ffi: fatal signal in this thread; C stack:\n";
    void *frames[64];
    int n, i;
    (void)!write(2, head, sizeof(head) - 1);
    n = backtrace(frames, 64);
    backtrace_symbols_fd(frames, n, 2);
    for (i = 0; i < (int)PJ_ARRAY_SIZE(pjffi_fatal_signals); ++i) {
        if (pjffi_fatal_signals[i] == sig) {
            sigaction(sig, &pjffi_old_actions[i], NULL);
            break;
        }
    }
    raise(sig);
}

/* Install the crash report (once); the previous handlers run after it. */
static void pjffi_install_crash_report(void)
{
    void *warm[2];
    int i;
    if (pjffi_crash_installed)
        return;
    pjffi_crash_installed = 1;
    backtrace(warm, 2);   /* loads the unwinder now, not inside a signal handler */
    for (i = 0; i < (int)PJ_ARRAY_SIZE(pjffi_fatal_signals); ++i) {
        struct sigaction sa;
        pj_bzero(&sa, sizeof(sa));
        sa.sa_handler = &on_fatal_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_NODEFER | SA_RESETHAND;
        sigaction(pjffi_fatal_signals[i], &sa, &pjffi_old_actions[i]);
    }
}
