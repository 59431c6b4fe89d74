/* The two entry points from C into Python (see pjsua_ffi/_events.py). */
extern "Python" void pjffi_py_event(pjffi_event *ev);
extern "Python" void pjffi_py_log(int level, const char *data, int len);
