// IncrementalExportLine: one data line of a DynamoDB incremental export (ExportType
// INCREMENTAL_EXPORT, ExportViewType NEW_AND_OLD_IMAGES, DYNAMODB_JSON) as a change record, for
// bridging a trimmed stream (on_trimmed: incremental_export, issue 28; read by ExportFileReader of
// type kIncremental for GapExports).
//
// AWS documents a line as {"Metadata":{"WriteTimestampMicros":{"N":"…"}},"Keys":{…},
// "NewImage":{…},"OldImage":{…}} (fields in any order; the timestamp is also taken as a bare
// number). The export is compacted: one line per item changed in the window, its state at the
// window's end. So:
//   NewImage present, OldImage present  kUpdate (before = OldImage, after = NewImage)
//   NewImage present, no OldImage       kCreate (the item did not exist at the window's start)
//   no NewImage                         kDelete (before = OldImage when given)
// change_time_ms is WriteTimestampMicros / 1000 (the last write to the item in the window). An
// incremental export does not say who deleted an item: a TTL expiry is an ordinary delete
// (ttl_delete false), so on_ttl_delete cannot tell it apart.
//
// Thread-safety: stateless; Decode uses a thread_local parser.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "aws/dynamodb_types.h"
#include "core/record.h"
#include "core/status.h"

namespace ddb2pg::source {

class IncrementalExportLine {
 public:
  // `line` must be readable for simdjson::SIMDJSON_PADDING bytes past its end (`capacity`: the
  // bytes readable from line.data()). kDataError naming `where` for anything not of this shape.
  static core::Result<core::Record> Decode(std::string_view line, size_t capacity, const std::vector<std::string>& key_names,
                                           const aws::AttributeSelection* decode_only, const std::string& table,
                                           const std::string& where);
};

}  // namespace ddb2pg::source
