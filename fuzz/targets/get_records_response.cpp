// GetRecords response parser: any bytes as a GetRecords body, through both overloads and with a
// decode_only selection (as scan_response.cpp). Keys are always decoded whole.
#include <string>
#include <string_view>

#include "aws/response_parser.h"
#include "fuzz_check.h"
#include "fuzz_targets.h"
#include "restrict.h"

namespace ddb2pg::fuzz {
namespace {

bool SameRecord(const aws::StreamRecord& a, const aws::StreamRecord& b) {
  return a.event_id == b.event_id && a.event_name == b.event_name && a.keys == b.keys && a.new_image == b.new_image &&
         a.old_image == b.old_image && a.sequence_number == b.sequence_number &&
         a.approximate_creation_time_ms == b.approximate_creation_time_ms && a.size_bytes == b.size_bytes &&
         a.user_identity_type == b.user_identity_type && a.user_identity_principal_id == b.user_identity_principal_id;
}

std::optional<core::Value> RestrictImage(const std::optional<core::Value>& image, const aws::AttributeSelection& only) {
  if (!image) return std::nullopt;
  return Restrict(*image, only);
}

}  // namespace

int FuzzGetRecordsResponse(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const core::Result<aws::GetRecordsResult> full = aws::ParseGetRecordsResponse(input);
  std::string owned(input);
  const core::Result<aws::GetRecordsResult> in_place = aws::ParseGetRecordsResponse(owned);
  FUZZ_CHECK(owned == input, "the in-place parser changed its input");
  FUZZ_CHECK(full.ok() == in_place.ok(), "the two overloads disagree on whether the body parses");
  if (!full.ok()) {
    FUZZ_CHECK(full.status().message() == in_place.status().message(), "the two overloads give different errors");
    return 0;
  }
  FUZZ_CHECK(full->records.size() == in_place->records.size(), "the two overloads give different record counts");
  for (size_t i = 0; i < full->records.size(); ++i) {
    FUZZ_CHECK(SameRecord(full->records[i], in_place->records[i]), "the two overloads give different records");
    const std::string& name = full->records[i].event_name;
    FUZZ_CHECK(name == "INSERT" || name == "MODIFY" || name == "REMOVE", "an eventName outside the contract: " + name);
    FUZZ_CHECK(!full->records[i].sequence_number.empty(), "a record without SequenceNumber was accepted");
  }
  FUZZ_CHECK(full->next_shard_iterator == in_place->next_shard_iterator, "different NextShardIterator");

  static const aws::AttributeSelection kOnly({"id", "name", "appearance"});
  const core::Result<aws::GetRecordsResult> selected = aws::ParseGetRecordsResponse(input, &kOnly);
  FUZZ_CHECK(selected.ok(), "a body that parses in full fails with decode_only: " + selected.status().message());
  FUZZ_CHECK(selected->records.size() == full->records.size(), "decode_only changed the number of records");
  for (size_t i = 0; i < full->records.size(); ++i) {
    aws::StreamRecord expected = full->records[i];
    expected.new_image = RestrictImage(expected.new_image, kOnly);
    expected.old_image = RestrictImage(expected.old_image, kOnly);
    aws::StreamRecord got = selected->records[i];
    // SizeBytes and the rest are read whole either way; only the images are cut down.
    FUZZ_CHECK(SameRecord(got, expected), "decode_only record differs from the full record cut down");
  }
  return 0;
}

}  // namespace ddb2pg::fuzz
