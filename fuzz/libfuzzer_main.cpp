// The libFuzzer entry point for one target; DDB2PG_FUZZ_FUNCTION names it (set by fuzz/CMakeLists.txt).
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return ddb2pg::fuzz::DDB2PG_FUZZ_FUNCTION(data, size);
}
