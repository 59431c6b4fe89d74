/* pjlib basics that every other cdef header uses. */
typedef int pj_status_t;
typedef int pj_bool_t;
typedef long pj_ssize_t;
typedef unsigned char pj_uint8_t;

typedef struct pj_str_t {
    char *ptr;
    pj_ssize_t slen;
} pj_str_t;

typedef struct pj_time_val {
    long sec;
    long msec;
} pj_time_val;

typedef struct pj_pool_t pj_pool_t;

#define PJ_SUCCESS ...
#define PJ_TRUE ...
#define PJ_FALSE ...
#define PJ_ERR_MSG_SIZE ...
#define PJ_EINVAL ...
#define PJ_ENOTSUP ...
#define PJ_ENOTFOUND ...
#define PJ_EINVALIDOP ...

pj_str_t pj_strerror(pj_status_t statcode, char *buf, pj_ssize_t bufsize);
pj_bool_t pj_thread_is_registered(void);
