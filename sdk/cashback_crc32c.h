/* CRC-32C (Castagnoli). */
#ifndef CASHBACK_CRC32C_H
#define CASHBACK_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues `crc` (0 to start) over `len` bytes. crc32c("123456789") is
 * 0xe3069283. */
uint32_t cashback__crc32c(uint32_t crc, const void *data, size_t len);

#endif
