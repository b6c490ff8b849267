/*
 * clockshift: an LD_PRELOAD library that moves the wall clock, and only the wall clock, of a
 * process and of every child it starts, by CLOCKSHIFT_OFFSET_S seconds.
 *
 * Why not Debian's faketime: libfaketime 0.9.10 also rewrites the deadlines of timed waits,
 * and Python 3.11 sleeps and waits on absolute CLOCK_MONOTONIC deadlines (clock_nanosleep,
 * sem_clockwait): with the monotonic clock faked, waits last a year; with it left alone,
 * time.sleep fails with EINVAL. This library leaves the monotonic clock, sleeps and waits
 * untouched and shifts what programs read as the date: clock_gettime(CLOCK_REALTIME*),
 * gettimeofday and time. Used by `make test-elsewhere` (tests/run_elsewhere.sh).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

#define NS_PER_S 1000000000LL

static long long offset_s(void) {
    static int ready = 0;
    static long long offset = 0;
    if (!ready) {
        const char *text = getenv("CLOCKSHIFT_OFFSET_S");
        offset = text ? atoll(text) : 0;
        ready = 1;
    }
    return offset;
}

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, void *);

int clock_gettime(clockid_t id, struct timespec *ts) {
    static clock_gettime_fn real = NULL;
    if (real == NULL) {
        real = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    }
    int rc = real(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
        ts->tv_sec += offset_s();
    }
    return rc;
}

int gettimeofday(struct timeval *tv, void *tz) {
    static gettimeofday_fn real = NULL;
    if (real == NULL) {
        real = (gettimeofday_fn)dlsym(RTLD_NEXT, "gettimeofday");
    }
    int rc = real(tv, tz);
    if (rc == 0) {
        tv->tv_sec += offset_s();
    }
    return rc;
}

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out != NULL) {
        *out = ts.tv_sec;
    }
    return ts.tv_sec;
}
