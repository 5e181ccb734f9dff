#include "fuzz_targets.h"

#include <array>

namespace ddb2pg::fuzz {

std::span<const FuzzTarget> AllFuzzTargets() {
  static constexpr std::array<FuzzTarget, 10> kTargets = {{
      {"attribute_value", &FuzzAttributeValue},
      {"scan_response", &FuzzScanResponse},
      {"get_records_response", &FuzzGetRecordsResponse},
      {"describe_stream_response", &FuzzDescribeStreamResponse},
      {"source_position", &FuzzSourcePosition},
      {"config_yaml", &FuzzConfigYaml},
      {"expression", &FuzzExpression},
      {"copy_text", &FuzzCopyText},
      {"copy_binary", &FuzzCopyBinary},
      {"sigv4", &FuzzSigV4},
  }};
  return kTargets;
}

}  // namespace ddb2pg::fuzz
