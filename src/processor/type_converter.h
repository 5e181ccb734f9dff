// TypeConverter: turns an evaluated Datum into the text PostgreSQL's input function for one
// column type accepts (the raw value; COPY escaping is the sink's job).
//
// What each column type accepts (anything else is an error naming the type received):
//   TEXT        S as is; N as its decimal text; BOOL as true/false; a timestamp as ISO-8601.
//               M, L, sets and B are errors (map them to JSONB, or pick an attribute).
//   VARCHAR(n)  as TEXT, then counted in characters (UTF-8 code points). Longer than n: error
//               "value has N characters" (policy reject, the default) or cut after the n-th
//               character (policy truncate).
//   UUID        S of the form 8-4-4-4-12 hex digits, written lower-case; B of 16 bytes.
//   TIMESTAMPTZ S in ISO-8601 (see timestamp_text.h: with or without fraction, Z or ±hh:mm,
//               or a date alone = midnight UTC); N as epoch seconds, or milliseconds when
//               |N| ≥ 1e11; now()/change_time(). Written in UTC: "2024-09-05 17:16:20.382266+00".
//   TIMESTAMP   the same inputs; written as the UTC wall time without a zone.
//   DATE        the same inputs; the UTC date of the instant ("1990-08-22").
//   BOOLEAN     BOOL; S "true"/"false" (any case); N 0 or 1.
//   SMALLINT, INTEGER, BIGINT
//               N, or S holding a number; must be whole (5, 5.0, 1e3 are; 5.5 is an error) and in
//               the type's range. Written as plain digits.
//   REAL, DOUBLE PRECISION
//               N, or S holding a number; the decimal text is passed on exactly (PostgreSQL
//               rounds it to the nearest float). Values outside the type's range, including
//               non-zero values that would underflow to 0, are errors.
//   NUMERIC     N, or S holding a number; unconstrained: the exact text. NUMERIC(p, s): rounded
//               half away from zero to s fraction digits (as PostgreSQL does); more than p - s
//               digits before the point is an error.
//   JSONB, JSON any value as plain JSON: M → object, L → array, S → string, N → number, BOOL,
//               NULL → null, SS/NS/BS → arrays, B → base64 string, a timestamp → ISO string.
//   BYTEA       B, written as \x followed by hex digits.
//   TEXT[], INTEGER[], BIGINT[], NUMERIC[], DOUBLE PRECISION[], BOOLEAN[], UUID[], TIMESTAMPTZ[]
//               L, SS or NS; each element converted by the element type's rules above (an L's
//               NULL elements stay NULL), written as an array literal {"a","b",NULL}. An element
//               that does not fit is an error naming its 0-based index: "element [2]: …". Anything
//               else (an S, an M) is an error.
// A null Datum is never passed in: the caller writes SQL NULL.
//
// Thread-safety: immutable after construction.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "processor/expression.h"
#include "model/pipeline_spec.h"

namespace ddb2pg::processor {

class TypeConverter {
 public:
  TypeConverter(model::ColumnType type, model::OverflowPolicy overflow) : type_(type), overflow_(overflow) {}

  // Converts a non-null datum. On success *out views the datum's own text or `scratch` (which
  // is cleared first). On failure returns false with `error` set to the reason, e.g.
  // `S "abc" is not a UUID (expected 8-4-4-4-12 hex digits)`.
  bool Convert(const Datum& datum, std::string& scratch, std::string_view* out,
               std::string* error) const;

  const model::ColumnType& type() const { return type_; }

 private:
  bool ConvertArray(const Datum& datum, std::string& scratch, std::string_view* out, std::string* error) const;

  model::ColumnType type_;
  model::OverflowPolicy overflow_;
};

// Appends `value` as plain JSON (the JSONB conversion above).
void AppendPlainJson(const core::Value& value, std::string& out);
// Appends the map `item` as a JSON object without the top-level attributes named in `omit`
// (what a JSON/JSONB column of item_except(…) holds). With `jsonb`, a NUL character (which
// JSONB cannot hold) makes it return false with `error` set.
bool AppendJsonObjectExcept(const core::Value& item, const std::vector<std::string>& omit, bool jsonb,
                            std::string& out, std::string* error);

}  // namespace ddb2pg::processor
