/* Admission gate for pool workers (pjsua_ffi/_csrc/gate.c). */
int pjffi_gate_set(int code);
long pjffi_gate_count(int which);
