// Replays every saved fuzz input through its target, in the normal test suite: the crash cases in
// fuzz/regressions/<target>/ (each one a bug the fuzzer found, now fixed) and the hand-written
// seeds in fuzz/seeds/<target>/. A broken property aborts the test binary with the reason
// (fuzz/fuzz_check.h), which fails the test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_targets.h"

namespace ddb2pg::fuzz {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> InputsOf(std::string_view target) {
  std::vector<fs::path> inputs;
  for (const char* kind : {"regressions", "seeds"}) {
    const fs::path folder = fs::path(DDB2PG_SOURCE_DIR) / "fuzz" / kind / std::string(target);
    if (!fs::is_directory(folder)) continue;
    for (const auto& entry : fs::directory_iterator(folder)) {
      if (entry.is_regular_file() && entry.path().filename().string()[0] != '.') inputs.push_back(entry.path());
    }
  }
  std::sort(inputs.begin(), inputs.end());
  return inputs;
}

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class FuzzReplay : public ::testing::TestWithParam<FuzzTarget> {};

TEST_P(FuzzReplay, SavedInputsKeepEveryProperty) {
  const FuzzTarget target = GetParam();
  const std::vector<fs::path> inputs = InputsOf(target.name);
  ASSERT_FALSE(inputs.empty()) << "no seeds or regressions for fuzz target " << target.name;
  for (const fs::path& input : inputs) {
    SCOPED_TRACE(input.string());
    const std::string bytes = ReadBytes(input);
    std::fprintf(stderr, "replaying %s (%zu bytes)\n", input.string().c_str(), bytes.size());
    EXPECT_EQ(target.run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzReplay, ::testing::ValuesIn(AllFuzzTargets().begin(), AllFuzzTargets().end()),
                         [](const ::testing::TestParamInfo<FuzzTarget>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace ddb2pg::fuzz
