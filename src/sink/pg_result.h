// PgResult: owns one libpq PGresult (PQclear on destruction). Move-only.
#pragma once

#include <libpq-fe.h>

#include <memory>

namespace ddb2pg::sink {

struct PgResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};

using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

}  // namespace ddb2pg::sink
