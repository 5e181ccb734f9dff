// CopyBinaryEncoder: turns rows into COPY … FROM STDIN (FORMAT binary) for a table whose every
// column has a type it encodes exactly: uuid, timestamptz, timestamp, date, boolean, smallint,
// integer, bigint, real, double precision, text, varchar, json, jsonb. PostgreSQL then parses no
// text (a timestamp, a UUID, a float are a memcpy for it): measured on the reference tables,
// binary COPY costs the server well under half the CPU of text COPY (bench/run, BENCHMARKS.md).
//
// The encoding follows each column's real type in the database (TableWriter reads the types'
// OIDs when it prepares), never the configuration's spelling, so a mismatch can only make the
// table fall back to text COPY, not send bytes of the wrong type.
//
// Cells arrive in PostgreSQL's text input syntax (processor::TypeConverter writes them). A cell
// the encoder cannot turn into exactly the value PostgreSQL would read from the text (a
// timestamp without a UTC offset, which depends on the session's TimeZone; an integer with
// spaces; more than 6 digits of a second …) makes AppendRow return false: the caller then sends
// that COPY as text, so PostgreSQL reads — or rejects, naming the row — what it always did.
//
// Thread-safety: a plain value; AppendRow is const.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/row.h"

namespace ddb2pg::sink {

class CopyBinaryEncoder {
 public:
  // The binary encodings: one per PostgreSQL type this class writes.
  enum class Encoding : uint8_t {
    kUuid, kTimestamptz, kTimestamp, kDate, kBool, kInt2, kInt4, kInt8, kFloat4, kFloat8, kText, kJsonb, kChar,
  };
  // The encoding of a type by its OID (pg_type.oid); false when the type has none here.
  static bool EncodingOf(uint32_t type_oid, Encoding* encoding);

  // `columns`: the encodings of the COPY's columns in order (an extra trailing "char" column, the
  // staging table's action tag, is kChar).
  explicit CopyBinaryEncoder(std::vector<Encoding> columns) : columns_(std::move(columns)) {}

  // The 19-byte header and the 2-byte trailer of the binary COPY format.
  static void AppendHeader(std::string& out);
  static void AppendTrailer(std::string& out);

  // Appends the row's cells (then `extra_cell` as the last column when the encoder has one more
  // column than the row has cells). False, with `out` as it was, when a cell has no exact binary
  // form (see above) or the row's width does not match.
  bool AppendRow(std::string& out, const model::Row& row, std::string_view extra_cell = {}) const;

  // One cell's binary value (without its length word), for tests. False as above.
  static bool EncodeCell(Encoding encoding, std::string_view text, std::string& out);

 private:
  std::vector<Encoding> columns_;
};

}  // namespace ddb2pg::sink
