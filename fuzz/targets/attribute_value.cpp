// AttributeValue decoder: any bytes as an item document. Decoding must fail cleanly or give a
// Value that encodes back to DynamoDB JSON which decodes to the same Value, and encodes the same.
#include <string>
#include <string_view>

#include "aws/attribute_codec.h"
#include "core/value_json.h"
#include "fuzz_check.h"
#include "fuzz_targets.h"

namespace ddb2pg::fuzz {

int FuzzAttributeValue(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  core::Result<core::Value> item = aws::ParseItemJson(input);
  if (!item.ok()) {
    FUZZ_CHECK(!item.status().message().empty(), "a decode error without a message");
    return 0;
  }
  const std::string encoded = core::ItemToJson(*item);
  core::Result<core::Value> again = aws::ParseItemJson(encoded);
  FUZZ_CHECK(again.ok(), "re-decoding the encoded item failed: " + again.status().message() + " for " + encoded);
  FUZZ_CHECK(*again == *item, "the item changed in an encode/decode round trip: " + encoded);
  FUZZ_CHECK(core::ItemToJson(*again) == encoded, "encoding is not stable: " + encoded);
  return 0;
}

}  // namespace ddb2pg::fuzz
