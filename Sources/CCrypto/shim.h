#ifndef OCITOOL_CCRYPTO_SHIM_H
#define OCITOOL_CCRYPTO_SHIM_H
#include <openssl/evp.h>
#include <openssl/crypto.h>
#endif
