// Scan response parser: any bytes as a Scan body, through both overloads (copying and padding in
// place) and with a decode_only selection. The overloads must agree, and a body that parses in
// full must parse with the selection to the same items cut down to the selected attributes.
#include <string>
#include <string_view>

#include "aws/response_parser.h"
#include "fuzz_check.h"
#include "fuzz_targets.h"
#include "restrict.h"

namespace ddb2pg::fuzz {

int FuzzScanResponse(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const core::Result<aws::ScanPage> full = aws::ParseScanResponse(input);
  std::string owned(input);
  const core::Result<aws::ScanPage> in_place = aws::ParseScanResponse(owned);
  FUZZ_CHECK(owned == input, "the in-place parser changed its input");
  FUZZ_CHECK(full.ok() == in_place.ok(), "the two overloads disagree on whether the body parses");
  if (!full.ok()) {
    FUZZ_CHECK(full.status().message() == in_place.status().message(), "the two overloads give different errors");
    return 0;
  }
  FUZZ_CHECK(full->items == in_place->items, "the two overloads give different items");
  FUZZ_CHECK(full->last_evaluated_key == in_place->last_evaluated_key, "different LastEvaluatedKey");
  FUZZ_CHECK(full->scanned_count == in_place->scanned_count, "different ScannedCount");

  static const aws::AttributeSelection kOnly({"id", "name", "appearance"});
  const core::Result<aws::ScanPage> selected = aws::ParseScanResponse(input, &kOnly);
  FUZZ_CHECK(selected.ok(), "a body that parses in full fails with decode_only: " + selected.status().message());
  FUZZ_CHECK(selected->items.size() == full->items.size(), "decode_only changed the number of items");
  for (size_t i = 0; i < full->items.size(); ++i) {
    FUZZ_CHECK(selected->items[i] == Restrict(full->items[i], kOnly), "decode_only item differs from the full item");
  }
  FUZZ_CHECK(selected->last_evaluated_key == full->last_evaluated_key, "decode_only changed LastEvaluatedKey");
  return 0;
}

}  // namespace ddb2pg::fuzz
