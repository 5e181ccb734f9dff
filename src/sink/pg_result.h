// PgResult: owns one libpq PGresult (PQclear on destruction). Move-only.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>

namespace ddb2pg::sink {

struct PgResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};

using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

// A cell as text; "" for NULL.
inline std::string CellText(const PgResult& result, int row, int column) {
  return PQgetisnull(result.get(), row, column) ? std::string() : std::string(PQgetvalue(result.get(), row, column));
}

}  // namespace ddb2pg::sink
