#include "source/export_file_reader.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <optional>

#include "aws/attribute_codec.h"
#include "aws/gzip_decoder.h"
#include "aws/md5_digest.h"
#include "source/incremental_export_line.h"

namespace ddb2pg::source {

constexpr auto kRetryDelay = std::chrono::milliseconds(1000);  // after the client's own retries ran out

ExportFileReader::ExportFileReader(ExportFileReaderOptions options, std::string resume_after,
                                   aws::ObjectStoreApi& s3, const core::Clock& clock,
                                   core::BoundedQueue<core::Record>* out, uint64_t tag)
    : ReaderThread(out, tag, clock), options_(std::move(options)), resume_after_(std::move(resume_after)), s3_(s3) {}

std::string ExportFileReader::FileName() const { return "s3://" + options_.bucket + "/" + options_.file.key; }

core::Result<core::Record> ExportFileReader::Decode(std::string_view line, uint64_t line_number) {
  const auto where = [&] { return "export data file " + FileName() + " line " + std::to_string(line_number); };
  scratch_.assign(line);
  scratch_.reserve(line.size() + simdjson::SIMDJSON_PADDING);
  if (options_.type == ExportType::kIncremental) {
    auto change = IncrementalExportLine::Decode(std::string_view(scratch_.data(), line.size()), scratch_.capacity(),
                                                options_.key_names, options_.decode_only.get(), options_.table, where());
    if (!change.ok()) return change.status();
    change->position = {options_.partition_id, std::to_string(line_number), false};
    return change;
  }
  thread_local simdjson::ondemand::parser parser;
  simdjson::ondemand::document document;
  simdjson::ondemand::object root;
  simdjson::ondemand::object item_json;
  if (parser.iterate(simdjson::padded_string_view(scratch_.data(), line.size(), scratch_.capacity())).get(document) !=
          simdjson::SUCCESS ||
      document.get_object().get(root) != simdjson::SUCCESS ||
      root.find_field("Item").get_object().get(item_json) != simdjson::SUCCESS) {
    return core::Status::DataError(where() + ": not an {\"Item\": {...}} line of DYNAMODB_JSON");
  }
  const aws::AttributePath path{nullptr, "Item"};
  auto item = aws::DecodeItem(item_json, path, options_.decode_only.get());
  if (!item.ok()) return core::Status::DataError(where() + ": " + item.status().message());
  core::Value key = core::Value::MakeMap();
  for (const auto& name : options_.key_names) {
    const core::Value* value = item->Find(name);
    if (value == nullptr) return core::Status::DataError(where() + ": the item has no key attribute " + name);
    key.Set(name, *value);
  }
  core::Record record;
  record.operation = core::Operation::kSnapshot;
  record.position = {options_.partition_id, std::to_string(line_number), false};
  record.key = std::move(key);
  record.after = std::move(item).value();
  record.metadata.table = options_.table;
  record.metadata.change_time_ms = options_.export_time_ms;
  return record;
}

core::Status ExportFileReader::Read() {
  uint64_t skip_lines = 0;
  if (!resume_after_.empty()) {
    const auto [end, error] =
        std::from_chars(resume_after_.data(), resume_after_.data() + resume_after_.size(), skip_lines);
    if (error != std::errc() || end != resume_after_.data() + resume_after_.size()) {
      return core::Status::InvalidArgument("the stored position of " + options_.partition_id + " ('" +
                                           resume_after_ + "') is not a line count of an export data file");
    }
  }
  aws::GzipDecoder gzip;
  aws::Md5Digest md5;
  std::string text;  // inflated, not yet split into lines
  uint64_t offset = 0;
  std::optional<uint64_t> size;  // the object's, known from the first answer
  uint64_t line_number = 0;
  std::optional<core::Record> held;  // pushed once the next line (or the checks) say it may go

  const auto take_line = [&](std::string_view line) -> core::Status {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return core::Status::Ok();
    ++line_number;
    if (line_number <= skip_lines) return core::Status::Ok();
    DDB2PG_ASSIGN_OR_RETURN(core::Record record, Decode(line, line_number));
    if (held) {
      if (!Push(std::move(*held))) return core::Status::Cancelled("stopping");
      CountRecord();
    }
    held = std::move(record);
    return core::Status::Ok();
  };

  // A transient S3 failure is waited out (the slot released meanwhile); true when it was one.
  const auto retry_later = [&](const core::Status& status, auto& slot) {
    if (!status.transient()) return false;
    spdlog::warn("source {}: {}: {}; retrying", options_.table, FileName(), status.ToString());
    slot.Release();
    SleepUnlessStopping(kRetryDelay);
    return true;
  };

  while (!size || offset < *size) {
    if (stopping()) return core::Status::Cancelled("stopping");
    auto slot = PageSlot();
    if (!slot.held()) return core::Status::Cancelled("stopping");
    if (!size) {
      // An empty object has no byte range to ask for: its size comes first.
      auto head = s3_.HeadObject(options_.bucket, options_.file.key);
      if (!head.ok()) {
        if (retry_later(head.status(), slot)) continue;
        return head.status().WithContext("export data file " + FileName());
      }
      size = head->size;
      if (*size == 0) break;
    }
    const aws::ByteRange range{offset, std::min(*size, offset + options_.chunk_bytes) - 1};
    auto chunk = s3_.GetObject(options_.bucket, options_.file.key, range);
    if (!chunk.ok()) {
      if (retry_later(chunk.status(), slot)) continue;
      return chunk.status().WithContext("export data file " + FileName());
    }
    if (chunk->body.size() != range.last - range.first + 1) {
      return core::Status::DataError("export data file " + FileName() + ": asked for bytes " +
                                     std::to_string(range.first) + "-" + std::to_string(range.last) + ", got " +
                                     std::to_string(chunk->body.size()) + " (the object changed while read?)");
    }
    md5.Update(chunk->body);
    auto inflated = gzip.Feed(chunk->body, text);
    if (!inflated.ok()) return core::Status::DataError("export data file " + FileName() + ": " + inflated.message());
    offset += chunk->body.size();
    size_t start = 0;
    for (size_t newline = text.find('\n'); newline != std::string::npos; newline = text.find('\n', start)) {
      DDB2PG_RETURN_IF_ERROR(take_line(std::string_view(text).substr(start, newline - start)));
      start = newline + 1;
    }
    text.erase(0, start);
  }
  const auto corrupt = [&](const std::string& what) {
    return core::Status::DataError("export data file " + FileName() + ": " + what +
                                   "; the export is damaged or not what its manifest describes: export again");
  };
  if (size && *size > 0) {
    if (auto finished = gzip.Finish(); !finished.ok()) return corrupt(finished.message());
    DDB2PG_RETURN_IF_ERROR(take_line(text));  // a last line without '\n'
    const std::string actual_md5 = md5.FinishBase64();
    if (!options_.file.md5_base64.empty() && actual_md5 != options_.file.md5_base64) {
      return corrupt("MD5 " + actual_md5 + " is not the manifest's md5Checksum " + options_.file.md5_base64);
    }
  }
  if (options_.file.item_count >= 0 && line_number != static_cast<uint64_t>(options_.file.item_count)) {
    return corrupt(std::to_string(line_number) + " item(s), the manifest says " +
                   std::to_string(options_.file.item_count));
  }
  if (held) {
    held->position.partition_done = true;
    if (!Push(std::move(*held))) return core::Status::Cancelled("stopping");
    CountRecord();
  } else {
    core::Record marker;  // nothing (more) to read: the partition still completes
    marker.metadata.table = options_.table;
    marker.position = {options_.partition_id, std::to_string(line_number), true};
    if (!Push(std::move(marker))) return core::Status::Cancelled("stopping");
  }
  return core::Status::Ok();
}

}  // namespace ddb2pg::source
