#ifndef OCITOOL_CZSTD_SHIM_H
#define OCITOOL_CZSTD_SHIM_H
#include <zstd.h>
#endif
