#ifndef OCITOOL_CLINUX_SHIM_H
#define OCITOOL_CLINUX_SHIM_H
/* Linux calls that glibc declares only under _GNU_SOURCE. Defining that
   here would change shared system headers for other modules, so the one
   prototype needed is declared exactly as glibc does. */
#include <sys/types.h>

#if defined(__linux__)
extern int sync_file_range(int __fd, __off64_t __offset, __off64_t __count, unsigned int __flags);
#endif

/* Start write-back of a file range without waiting (no-op elsewhere). */
static inline int ocitool_start_writeback(int fd, long long offset, long long length) {
#if defined(__linux__)
    return sync_file_range(fd, (__off64_t)offset, (__off64_t)length, 2 /* SYNC_FILE_RANGE_WRITE */);
#else
    (void)fd; (void)offset; (void)length;
    return 0;
#endif
}
#endif
