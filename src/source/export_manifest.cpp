#include "source/export_manifest.h"

#include <simdjson.h>

#include <charconv>
#include <chrono>

#include "aws/json_fields.h"
#include "aws/s3_addressing.h"

namespace ddb2pg::source {
namespace {

bool ReadInt(std::string_view text, int& out) {
  const auto [ptr, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

core::Result<int64_t> ParseIsoUtcMillis(std::string_view text) {
  const auto bad = [&] {
    return core::Status::InvalidArgument("'" + std::string(text) + "' is not a UTC time (2020-11-04T07:28:34.028Z)");
  };
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':') {
    return bad();
  }
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadInt(text.substr(0, 4), year) || !ReadInt(text.substr(5, 2), month) || !ReadInt(text.substr(8, 2), day) ||
      !ReadInt(text.substr(11, 2), hour) || !ReadInt(text.substr(14, 2), minute) ||
      !ReadInt(text.substr(17, 2), second)) {
    return bad();
  }
  std::string_view rest = text.substr(19);
  int millis = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t digits = 1;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    std::string fraction(rest.substr(1, digits - 1));
    if (fraction.empty()) return bad();
    fraction.resize(3, '0');
    if (!ReadInt(fraction, millis)) return bad();
    rest.remove_prefix(digits);
  }
  if (rest != "Z" && rest != "+00:00") return bad();
  const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return bad();
  const auto days = std::chrono::sys_days(date).time_since_epoch();
  return std::chrono::duration_cast<std::chrono::milliseconds>(days).count() +
         ((hour * 60 + minute) * 60 + second) * int64_t{1000} + millis;
}

core::Result<ExportManifest> ExportManifest::ParseSummary(std::string_view json, const std::string& what,
                                                          ExportType expected) {
  simdjson::dom::parser parser;
  const std::optional<simdjson::dom::object> parsed = aws::ParseObject(parser, json);
  if (!parsed) {
    return core::Status::InvalidArgument(what + ": not a JSON object (is it an export's manifest-summary.json?)");
  }
  const simdjson::dom::object object = *parsed;
  ExportManifest manifest;
  manifest.export_arn = aws::TextField(object, "exportArn");
  manifest.output_format = aws::TextField(object, "outputFormat");
  manifest.export_type = aws::TextField(object, "exportType");
  manifest.item_count = aws::IntegerField(object, "itemCount", -1);
  const std::string files_key = aws::TextField(object, "manifestFilesS3Key");
  const bool incremental = expected == ExportType::kIncremental;
  // An incremental export has a window (exportFromTime, exportToTime) where a full one has a time.
  const std::string export_time = aws::TextField(object, incremental ? "exportToTime" : "exportTime");
  const std::string time_name = incremental ? "exportToTime" : "exportTime";
  if (manifest.output_format.empty()) manifest.output_format = "DYNAMODB_JSON";  // the default format
  if (manifest.output_format != "DYNAMODB_JSON") {
    return core::Status::InvalidArgument(what + ": the export is in " + manifest.output_format +
                                         " format; ddb2pg reads DYNAMODB_JSON exports only (export again with "
                                         "--export-format DYNAMODB_JSON)");
  }
  const std::string expected_type = incremental ? "INCREMENTAL_EXPORT" : "FULL_EXPORT";
  if ((incremental || !manifest.export_type.empty()) && manifest.export_type != expected_type) {
    return core::Status::InvalidArgument(what + ": the export is an " +
                                         (manifest.export_type.empty() ? "export of no exportType" : manifest.export_type) +
                                         (incremental ? "; bridging a trimmed stream needs an INCREMENTAL_EXPORT"
                                                      : "; snapshot.export.manifest must name a FULL_EXPORT"));
  }
  if (files_key.empty() || export_time.empty()) {
    return core::Status::InvalidArgument(what + ": no manifestFilesS3Key or " + time_name +
                                         " (is it an export's manifest-summary.json?)");
  }
  auto time = ParseIsoUtcMillis(export_time);
  if (!time.ok()) return time.status().WithContext(what + ": " + time_name);
  manifest.export_time_ms = *time;
  if (incremental) {
    auto from = ParseIsoUtcMillis(aws::TextField(object, "exportFromTime"));
    if (!from.ok()) return from.status().WithContext(what + ": exportFromTime");
    manifest.export_from_time_ms = *from;
  }
  // Kept in `files` until Load reads the file list in its place.
  manifest.files.push_back({files_key, "", "", 0});
  return manifest;
}

core::Result<std::vector<ExportDataFile>> ExportManifest::ParseFiles(std::string_view json_lines,
                                                                     const std::string& what) {
  std::vector<ExportDataFile> files;
  simdjson::dom::parser parser;
  size_t line_number = 0;
  size_t start = 0;
  while (start < json_lines.size()) {
    size_t end = json_lines.find('\n', start);
    if (end == std::string_view::npos) end = json_lines.size();
    const std::string_view line = json_lines.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = what + " line " + std::to_string(line_number);
    const std::optional<simdjson::dom::object> parsed = aws::ParseObject(parser, line);
    if (!parsed) return core::Status::InvalidArgument(where + ": not a JSON object");
    const simdjson::dom::object object = *parsed;
    ExportDataFile file;
    file.key = aws::TextField(object, "dataFileS3Key");
    file.md5_base64 = aws::TextField(object, "md5Checksum");
    file.etag = aws::TextField(object, "etag");
    file.item_count = aws::IntegerField(object, "itemCount", -1);
    if (file.key.empty()) return core::Status::InvalidArgument(where + ": no dataFileS3Key");
    files.push_back(std::move(file));
  }
  return files;
}

core::Result<ExportManifest> ExportManifest::Load(aws::ObjectStoreApi& s3, const std::string& manifest_uri,
                                                  ExportType expected) {
  DDB2PG_ASSIGN_OR_RETURN(aws::S3Location location, aws::ParseS3Uri(manifest_uri));
  auto summary_object = s3.GetObject(location.bucket, location.key);
  if (!summary_object.ok()) return summary_object.status().WithContext("reading the export manifest");
  DDB2PG_ASSIGN_OR_RETURN(ExportManifest manifest, ParseSummary(summary_object->body, manifest_uri, expected));
  manifest.manifest_uri = manifest_uri;
  manifest.bucket = location.bucket;
  // AWS's examples show the manifests' keys both with and without the export prefix: a key not
  // under "<prefix>/AWSDynamoDB/" is taken as relative to the prefix.
  const size_t export_dir = location.key.rfind("AWSDynamoDB/");
  const std::string prefix = export_dir == std::string::npos ? "" : location.key.substr(0, export_dir);
  const auto full_key = [&](const std::string& key) {
    return prefix.empty() || key.starts_with(prefix) ? key : prefix + key;
  };
  const std::string files_key = full_key(manifest.files.front().key);
  auto files_object = s3.GetObject(location.bucket, files_key);
  if (!files_object.ok()) return files_object.status().WithContext("reading the export's file list");
  DDB2PG_ASSIGN_OR_RETURN(manifest.files, ParseFiles(files_object->body, "s3://" + location.bucket + "/" + files_key));
  for (auto& file : manifest.files) file.key = full_key(file.key);
  return manifest;
}

}  // namespace ddb2pg::source
