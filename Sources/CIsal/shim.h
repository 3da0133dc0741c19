#ifndef OCITOOL_CISAL_SHIM_H
#define OCITOOL_CISAL_SHIM_H
#include <isa-l/igzip_lib.h>
#include <isa-l/crc.h>
#include <isa-l.h>

/* ISA-L has no run-time version call: the headers' version, as built. */
static const int OCITOOL_ISAL_VERSION_MAJOR = ISAL_MAJOR_VERSION;
static const int OCITOOL_ISAL_VERSION_MINOR = ISAL_MINOR_VERSION;
static const int OCITOOL_ISAL_VERSION_PATCH = ISAL_PATCH_VERSION;

/* Constants Swift cannot import as macros of other macros. */
static const int OCITOOL_ISAL_LVL1_BUF = ISAL_DEF_LVL1_DEFAULT;
static const int OCITOOL_ISAL_LVL2_BUF = ISAL_DEF_LVL2_DEFAULT;
static const int OCITOOL_ISAL_LVL3_BUF = ISAL_DEF_LVL3_DEFAULT;
#endif
