/* Our events (pjsua_ffi/_csrc/queue.c, poller.c, loop.c): every pjsua callback arrives
 * as one flat pjffi_event, queued in C and taken in batches by the thread that polls
 * pjsua, or (event-loop mode) by an asyncio loop watching pjsua's epoll fd. The kinds'
 * values come from _csrc/pjffi.h. */
enum pjffi_event_kind {
    PJFFI_EV_CALL_STATE,
    PJFFI_EV_INCOMING_CALL,
    PJFFI_EV_CALL_MEDIA_STATE,
    PJFFI_EV_DTMF,
    PJFFI_EV_TRANSFER_REQUEST,
    PJFFI_EV_TRANSFER_STATUS,
    PJFFI_EV_REPLACE_REQUEST,
    PJFFI_EV_CALL_REPLACED,
    PJFFI_EV_PAGER,
    PJFFI_EV_PAGER_STATUS,
    PJFFI_EV_TYPING,
    PJFFI_EV_REG_STATE,
    PJFFI_EV_INCOMING_SUBSCRIBE,
    PJFFI_EV_BUDDY_STATE,
    PJFFI_EV_MWI_INFO,
    PJFFI_EV_CALL_REQUEST,
    PJFFI_EV_LOG,
    PJFFI_EV_SRV_SUBSCRIBE_STATE,
    ...
};

typedef struct pjffi_event {
    int kind;
    int call_id;
    int acc_id;
    int other_id;
    int code;
    int flag;
    void *user_data;
    void *obj;
    pjsua_call_info *call_info;
    pjsua_acc_info *acc_info;
    pjsua_buddy_info *buddy_info;
    pj_str_t s[6];
    int out_code;
    int out_flag;
    char out_reason[256];
    int kept;
} pjffi_event;

void pjffi_enable_events(int on);
int pjffi_next_events(pjffi_event **out, int max, int timeout_ms, int nfree);
int pjffi_take_events(pjffi_event **out, int max, int nfree);
int pjffi_wait_events(pjffi_event **out, int timeout_ms, int nfree);
void pjffi_api_enter(void);
int pjffi_take_own(pjffi_event **out, int max, int nfree);
void pjffi_free_event(pjffi_event *ev);
int pjffi_poll_attach(void);
void pjffi_poll_detach(void);
void pjffi_wake(void);
unsigned pjffi_queue_clear(void);
unsigned long pjffi_event_seq(void);
unsigned long pjffi_my_last_seq(void);
unsigned long pjffi_queue_dropped(void);

/* Event-loop mode (loop.c). */
long pjffi_next_timer_ms(void);
int pjffi_loop_attach(void);
void pjffi_loop_detach(void);

/* The two entry points from C into Python (the @ffi.def_extern functions of the same
 * names). */
extern "Python" void pjffi_py_event(pjffi_event *ev);
extern "Python" void pjffi_py_log(int level, const char *data, int len);
