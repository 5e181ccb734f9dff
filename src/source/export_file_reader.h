// ExportFileReader: one data file of a DynamoDB export (ExportManifest), as one snapshot partition
// ("scan/<i>": file i of manifest-files.json, when snapshot.from is export), or one data file of an
// incremental export (type kIncremental: each line a change, decoded by IncrementalExportLine, with
// its own change time; for on_trimmed: incremental_export).
//
// Reads the .json.gz object from S3 in byte ranges (chunk_bytes each, one page slot of the lane's
// FetchGate per range), inflates it as it arrives and turns each {"Item":{…}} line into a
// kSnapshot record whose change time is the export time. A record's offset is the number of lines
// read up to and including it, so a partition resumed after a kill skips that many lines (gzip
// cannot be entered mid-stream: the file is read again from its start, nothing is pushed twice).
//
// Integrity: the MD5 of the whole object must equal the manifest's md5Checksum, gzip's CRC must
// hold and the number of lines must equal the manifest's itemCount. Those are known only at the
// file's end, so the last record (which carries partition_done) is held back until they are
// checked: a corrupt file never completes its partition; it stops it with kDataError naming the
// file.
//
// Ownership: borrows the ObjectStoreApi and the queue (they outlive the reader).
// Thread-safety: see ReaderThread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "aws/dynamodb_types.h"
#include "aws/s3_api.h"
#include "source/export_manifest.h"
#include "source/reader_thread.h"

namespace ddb2pg::source {

struct ExportFileReaderOptions {
  std::string table;
  std::vector<std::string> key_names;  // HASH, then RANGE
  std::string partition_id;            // "scan/<i>"
  std::string bucket;
  ExportDataFile file;
  int64_t export_time_ms = 0;           // a full export's records' change time
  ExportType type = ExportType::kFull;  // kIncremental: change lines, each with its WriteTimestampMicros
  std::shared_ptr<const aws::AttributeSelection> decode_only;  // null: every attribute
  uint64_t chunk_bytes = kChunkBytes;

  // 1 MiB: tens of ms from S3, and a few MB of inflated text held at once.
  static constexpr uint64_t kChunkBytes = 1u << 20;
};

class ExportFileReader : public ReaderThread {
 public:
  // `resume_after`: lines already committed ("" or "0": from the start).
  ExportFileReader(ExportFileReaderOptions options, std::string resume_after, aws::ObjectStoreApi& s3,
                   const core::Clock& clock, core::BoundedQueue<core::Record>* out, uint64_t tag);
  ~ExportFileReader() override { Stop(); }

 protected:
  core::Status Read() override;

 private:
  // Decodes one line into a record (offset = `line_number`); kDataError names the file and line.
  core::Result<core::Record> Decode(std::string_view line, uint64_t line_number);
  std::string FileName() const;

  ExportFileReaderOptions options_;
  std::string resume_after_;
  aws::ObjectStoreApi& s3_;
  std::string scratch_;  // the line being decoded, padded for simdjson
};

}  // namespace ddb2pg::source
