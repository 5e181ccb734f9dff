// Parsing the response bodies of the hot-path operations straight into our types, in one pass.
// Errors (InvalidArgument) name the field path, e.g.
// "GetRecords: Records[3].dynamodb.NewImage.id: S must be a string". Unknown fields are ignored.
//
// Padding: simdjson reads up to SIMDJSON_PADDING (64) bytes past the end of its input.
//  - The `std::string_view` overloads copy the body into a per-thread padded buffer (a memcpy,
//    ~1-2% of the parse time for a 1 MB page).
//  - The `std::string&` overloads reserve the padding in the caller's string itself (no copy when
//    its capacity already allows; the contents are never changed). Prefer these for HTTP bodies.
//
// `decode_only`: the top-level item/image attributes to decode (null: all); Keys and
// LastEvaluatedKey are always whole. See AttributeSelection.
//
// Thread-safety: may be called from many threads at once. Parsers are pooled, at most one per
// core (a parser's buffers grow to about 4x the largest body it has seen); a call that finds
// every parser in use waits for one.
#pragma once

#include <string>
#include <string_view>

#include "aws/dynamodb_types.h"
#include "core/status.h"

namespace ddb2pg::aws {

// {"Items":[...],"Count":n,"ScannedCount":n,"LastEvaluatedKey":{...},
//  "ConsumedCapacity":{"CapacityUnits":x}} → ScanPage.
core::Result<ScanPage> ParseScanResponse(std::string_view body, const AttributeSelection* decode_only = nullptr);
core::Result<ScanPage> ParseScanResponse(std::string& body, const AttributeSelection* decode_only = nullptr);

// {"Records":[{"eventID","eventName","dynamodb":{"ApproximateCreationDateTime","Keys",
//  "NewImage","OldImage","SequenceNumber","SizeBytes"},"userIdentity":{...}}],
//  "NextShardIterator":"..."} → GetRecordsResult. ApproximateCreationDateTime is epoch seconds
// (possibly fractional or in exponent form) and becomes milliseconds. A NextShardIterator that is
// absent or null gives nullopt (the shard is closed and fully read). eventName must be INSERT,
// MODIFY or REMOVE; Keys and a non-empty SequenceNumber are required.
// `skip_images_before_ms` (0: none): the leading records of the page whose ApproximateCreationDateTime
// is before it — every record up to the first at or after it — get no NewImage/OldImage (their
// images are skipped, not decoded) and images_skipped set; the caller drops them unread (a stream
// reader's watermark cut-off). Their other fields are read and checked as usual.
core::Result<GetRecordsResult> ParseGetRecordsResponse(std::string_view body,
                                                       const AttributeSelection* decode_only = nullptr,
                                                       int64_t skip_images_before_ms = 0);
core::Result<GetRecordsResult> ParseGetRecordsResponse(std::string& body,
                                                       const AttributeSelection* decode_only = nullptr,
                                                       int64_t skip_images_before_ms = 0);

// {"StreamDescription":{"StreamArn","StreamLabel","StreamStatus","StreamViewType","TableName",
//  "Shards":[{"ShardId","ParentShardId","SequenceNumberRange":{...}}],"LastEvaluatedShardId"}}
// → StreamDescription. Errors (kInternal: the service broke its contract) start with `context`:
// a body that is not a JSON object, no StreamDescription object, a shard without ShardId.
// Missing string fields are empty; shard entries that are not objects are skipped.
core::Result<StreamDescription> ParseDescribeStreamResponse(std::string_view body, const std::string& context);

}  // namespace ddb2pg::aws
