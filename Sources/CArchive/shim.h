#ifndef OCITOOL_CARCHIVE_SHIM_H
#define OCITOOL_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
#include <string.h>

/* archive_set_error is variadic; Swift cannot call it. */
static inline void ocitool_archive_set_errno(struct archive *a, int code) {
    archive_set_error(a, code, "%s", strerror(code));
}
static inline void ocitool_archive_set_message(struct archive *a, int code, const char *message) {
    archive_set_error(a, code, "%s", message);
}
/* AE_IF* are cast macros, which Swift does not import. */
static const unsigned int OCITOOL_AE_IFREG = AE_IFREG;
static const unsigned int OCITOOL_AE_IFDIR = AE_IFDIR;
static const unsigned int OCITOOL_AE_IFLNK = AE_IFLNK;
static const unsigned int OCITOOL_AE_IFCHR = AE_IFCHR;
static const unsigned int OCITOOL_AE_IFBLK = AE_IFBLK;
static const unsigned int OCITOOL_AE_IFIFO = AE_IFIFO;
static const unsigned int OCITOOL_AE_IFSOCK = AE_IFSOCK;
#endif
