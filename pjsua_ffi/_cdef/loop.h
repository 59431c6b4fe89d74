/* Event-loop mode (pjsua_ffi/_csrc/loop.c): an asyncio loop polls pjsua's epoll fd. */
long pjffi_next_timer_ms(void);
int pjffi_loop_attach(void);
void pjffi_loop_detach(void);
