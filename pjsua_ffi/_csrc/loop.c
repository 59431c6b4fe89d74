/* Event-loop mode (pjsua_ffi/aio.py): an asyncio loop polls pjsua itself. This file
 * extends poller.c (compiled before it) and uses its state under the same locks.
 *
 * pjsua's SIP and media sockets all sit in one epoll ioqueue. An epoll fd is itself
 * pollable (readable while any of its sockets is ready), so the loop's own selector
 * watches it and, when it is readable or pjsua's next timer is due, the loop's thread
 * runs one non-blocking poll and delivers the events: the same path as handle_events(0).
 * pjsua does not say which fd its ioqueue uses; we find it among the process's epoll
 * fds as the one that already holds our wake socket (EPOLL_CTL_ADD answers EEXIST).
 *
 * In this mode an event queued outside the loop's own poll (another thread, or an API
 * call on the loop thread) always sends a wake datagram, which makes the fd readable.
 * The backup poller can no longer tell "busy" from "idle in the selector" by the
 * taker's state, so it looks at the work instead: when pjsua has had ready sockets or
 * an overdue timer for two ticks in a row and the loop has not polled meanwhile, the
 * loop is blocked and the backup poller polls once a tick until it comes back. */
#include <dirent.h>
#include <poll.h>
#include <sys/epoll.h>

static int loop_epfd = -1;

static pj_timer_heap_t *loop_timer_heap(void)
{
    pjsip_endpoint *endpt = pjsua_get_pjsip_endpt();
    return endpt ? pjsip_endpt_get_timer_heap(endpt) : NULL;
}

/* Milliseconds until pjsua's earliest timer (0 if overdue), or -1 if none. */
static long pjffi_next_timer_ms(void)
{
    pj_timer_heap_t *th = loop_timer_heap();
    pj_time_val t, now;
    long ms;
    if (!th || pj_timer_heap_earliest_time(th, &t) != PJ_SUCCESS)
        return -1;
    pj_gettickcount(&now);
    PJ_TIME_VAL_SUB(t, now);
    ms = PJ_TIME_VAL_MSEC(t);
    return ms < 0 ? 0 : ms;
}

/* The epoll fd of pjsua's ioqueue (see above), or -1. */
static int find_ioqueue_epfd(void)
{
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *de;
    int found = -1;
    if (!dir)
        return -1;
    while (found < 0 && (de = readdir(dir)) != NULL) {
        char path[64], target[64];
        struct epoll_event ev;
        ssize_t n;
        int fd;
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        fd = atoi(de->d_name);
        if (fd == dirfd(dir) || fd == wake_fd[0])
            continue;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        n = readlink(path, target, sizeof(target) - 1);
        if (n <= 0)
            continue;
        target[n] = 0;
        if (strcmp(target, "anon_inode:[eventpoll]") != 0)
            continue;
        pj_bzero(&ev, sizeof(ev));   /* no events: a probe that succeeds reports nothing */
        if (epoll_ctl(fd, EPOLL_CTL_ADD, wake_fd[0], &ev) == 0)
            epoll_ctl(fd, EPOLL_CTL_DEL, wake_fd[0], &ev);   /* not pjsua's: undo */
        else if (errno == EEXIST)
            found = fd;
    }
    closedir(dir);
    return found;
}

/* Enter event-loop mode; returns the fd for the loop to watch, or a negative status. */
static int pjffi_loop_attach(void)
{
    int fd;
    if (!poll_on)
        return -PJ_EINVALIDOP;
    fd = find_ioqueue_epfd();
    if (fd < 0)
        return -PJ_ENOTSUP;
    pthread_mutex_lock(&q_lock);
    loop_epfd = fd;
    atomic_store(&loop_mode, 1);
    wake_sent = 0;
    pthread_mutex_unlock(&q_lock);
    return fd;
}

/* Leave event-loop mode (before pjsua_destroy closes the fd). */
static void pjffi_loop_detach(void)
{
    pthread_mutex_lock(&q_lock);
    atomic_store(&loop_mode, 0);
    loop_epfd = -1;
    wake_sent = 0;
    pthread_mutex_unlock(&q_lock);
}

static int loop_work_pending(void)
{
    struct pollfd p;
    int fd = loop_epfd;
    if (fd < 0)
        return 0;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    if (poll(&p, 1, 0) > 0)
        return 1;
    return pjffi_next_timer_ms() == 0;
}

/* One tick of the backup poller in event-loop mode (called without backup_lock). */
static void loop_backup_tick(unsigned *seen)
{
    static int pending_ticks;
    int send;
    if (atomic_load(&busy_seq) != *seen || !loop_work_pending()) {
        *seen = atomic_load(&busy_seq);
        pending_ticks = 0;
        return;
    }
    if (++pending_ticks < 2)
        return;
    pthread_mutex_lock(&poll_token);
    if (atomic_load(&busy_seq) == *seen && atomic_load(&loop_mode))
        pjsua_handle_events(0);
    pthread_mutex_unlock(&poll_token);
    /* That poll may have eaten a wake datagram: send a fresh one for what is queued. */
    pthread_mutex_lock(&q_lock);
    wake_sent = 0;
    send = atomic_load(&loop_mode) && (q_head != NULL || q_wake);
    if (send)
        wake_sent = 1;
    pthread_mutex_unlock(&q_lock);
    if (send)
        send_wake();
}
