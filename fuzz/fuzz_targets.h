// The fuzz targets: one function per parser or encoder that reads untrusted bytes.
//
// Each function takes one input, runs it through the production entry point, and checks the
// properties that must hold for every input (no crash, no sanitizer report, round trips equal).
// A broken property calls FuzzFail (fuzz_check.h), which prints the reason and aborts, so
// libFuzzer records the input as a crash.
//
// The same functions serve two callers:
//  - fuzz/libfuzzer_main.cpp wraps one of them as LLVMFuzzerTestOneInput (clang, DDB2PG_FUZZ);
//  - tests/unit/fuzz replays every file under fuzz/regressions/<name>/ and fuzz/seeds/<name>/
//    through them in the normal test suite, so a fixed crash stays fixed.
//
// Thread-safety: each call is independent; the targets keep no state between inputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace ddb2pg::fuzz {

using FuzzFunction = int (*)(const uint8_t* data, size_t size);

struct FuzzTarget {
  std::string_view name;  // the folder name under fuzz/seeds and fuzz/regressions
  FuzzFunction run;
};

int FuzzAttributeValue(const uint8_t* data, size_t size);
int FuzzScanResponse(const uint8_t* data, size_t size);
int FuzzGetRecordsResponse(const uint8_t* data, size_t size);
int FuzzDescribeStreamResponse(const uint8_t* data, size_t size);
int FuzzSourcePosition(const uint8_t* data, size_t size);
int FuzzConfigYaml(const uint8_t* data, size_t size);
int FuzzExpression(const uint8_t* data, size_t size);
int FuzzCopyText(const uint8_t* data, size_t size);
int FuzzCopyBinary(const uint8_t* data, size_t size);
int FuzzSigV4(const uint8_t* data, size_t size);

// Every target, by name.
std::span<const FuzzTarget> AllFuzzTargets();

}  // namespace ddb2pg::fuzz
