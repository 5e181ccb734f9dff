// FuzzFail / FUZZ_CHECK: a broken property in a fuzz target. Prints what broke and aborts, so that
// libFuzzer saves the input and the regression test (which runs the same code) dies loudly.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace ddb2pg::fuzz {

[[noreturn]] inline void FuzzFail(const char* file, int line, std::string_view what) {
  std::fprintf(stderr, "fuzz property broken at %s:%d: %.*s\n", file, line, static_cast<int>(what.size()),
               what.data());
  std::abort();
}

}  // namespace ddb2pg::fuzz

#define FUZZ_CHECK(condition, what)                                          \
  do {                                                                       \
    if (!(condition)) ::ddb2pg::fuzz::FuzzFail(__FILE__, __LINE__, (what));  \
  } while (false)
