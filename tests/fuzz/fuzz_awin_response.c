/* Fuzzes the awin profile's reading of an answer (cashback_profile_awin.c);
 * the checks are fuzz_profile.h's. */
#include "fuzz_profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_profile_response("awin", data, size);
}
