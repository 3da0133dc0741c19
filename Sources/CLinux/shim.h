#ifndef OCITOOL_CLINUX_SHIM_H
#define OCITOOL_CLINUX_SHIM_H
/* Linux calls that glibc declares only under _GNU_SOURCE. Defining that
   here would change shared system headers for other modules, so the
   prototypes needed are declared exactly as glibc does. */
#include <sys/types.h>

#if defined(__linux__)
extern int sync_file_range(int __fd, __off64_t __offset, __off64_t __count, unsigned int __flags);

/* <sys/xattr.h>, which Glibc's Swift module does not include: the calls
   the union view and commit use, declared as glibc declares them. */
extern int lsetxattr(const char *__path, const char *__name, const void *__value, size_t __size, int __flags);
extern int fsetxattr(int __fd, const char *__name, const void *__value, size_t __size, int __flags);
extern ssize_t lgetxattr(const char *__path, const char *__name, void *__value, size_t __size);
extern ssize_t fgetxattr(int __fd, const char *__name, void *__value, size_t __size);
extern ssize_t llistxattr(const char *__path, char *__list, size_t __size);
extern ssize_t flistxattr(int __fd, char *__list, size_t __size);
extern int fremovexattr(int __fd, const char *__name);

/* <pthread.h> under _GNU_SOURCE: names a worker thread (15 bytes at most). */
extern int pthread_setname_np(unsigned long __target_thread, const char *__name);
#endif

#if defined(__GLIBC__)
#include <malloc.h>
#endif

/* Allocations of `bytes` and more are mapped and unmapped on their own
   (glibc's M_MMAP_THRESHOLD, fixed: no dynamic raise); no-op elsewhere. */
static inline void ocitool_map_allocations_from(int bytes) {
#if defined(__GLIBC__)
    (void)mallopt(M_MMAP_THRESHOLD, bytes);
#else
    (void)bytes;
#endif
}

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
