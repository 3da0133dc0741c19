#ifndef OCITOOL_CLINUX_SHIM_H
#define OCITOOL_CLINUX_SHIM_H
/* Linux calls that glibc only declares with _GNU_SOURCE. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <sys/types.h>

/* Start write-back of a file range without waiting (no-op elsewhere). */
static inline int ocitool_start_writeback(int fd, long long offset, long long length) {
#ifdef SYNC_FILE_RANGE_WRITE
    return sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd; (void)offset; (void)length;
    return 0;
#endif
}
#endif
