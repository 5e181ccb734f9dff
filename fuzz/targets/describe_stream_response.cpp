// DescribeStream response parser: any bytes as a DescribeStream body. Errors must start with the
// caller's context; an accepted body has a ShardId on every shard.
#include <string>
#include <string_view>

#include "aws/response_parser.h"
#include "fuzz_check.h"
#include "fuzz_targets.h"

namespace ddb2pg::fuzz {

int FuzzDescribeStreamResponse(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static const std::string kContext = "DescribeStream arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x";
  const core::Result<aws::StreamDescription> description = aws::ParseDescribeStreamResponse(input, kContext);
  if (!description.ok()) {
    FUZZ_CHECK(description.status().message().starts_with(kContext), "an error without the call's context");
    return 0;
  }
  for (const aws::ShardDescription& shard : description->shards) {
    FUZZ_CHECK(!shard.shard_id.empty(), "a shard without ShardId was accepted");
  }
  return 0;
}

}  // namespace ddb2pg::fuzz
