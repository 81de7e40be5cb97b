/* CRC-32C (Castagnoli). */
#ifndef CASHBACK_CRC32C_H
#define CASHBACK_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues `crc` (0 to start) over `len` bytes. crc32c("123456789") is
 * 0xe3069283. */
uint32_t cashback__crc32c(uint32_t crc, const void *data, size_t len);

/* The two implementations cashback__crc32c() chooses between, for the
 * tests: both give its value. `_hw` may be called only when
 * cashback__crc32c_hw_available() is 1 (where there is no hardware path it
 * is the portable one). All are thread-safe and allocate nothing. */
uint32_t cashback__crc32c_portable(uint32_t crc, const void *data, size_t len);
int cashback__crc32c_hw_available(void);
uint32_t cashback__crc32c_hw(uint32_t crc, const void *data, size_t len);

#endif
