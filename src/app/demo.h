// The demo: the reference job end to end on whatever servers the environment names (scripts/demo
// starts DynamoDB Local and PostgreSQL and sets AWS_ENDPOINT_URL_DYNAMODB, AWS_* keys and
// DATABASE_URL): create the users table, bulk-load a starting set, keep a generator writing,
// run the three pipelines with live progress, then print the seed's join query with real rows.
#pragma once

#include <chrono>
#include <string>

#include "core/status.h"

namespace ddb2pg::app {

struct DemoOptions {
  std::chrono::seconds duration{0};  // streaming time before the rows are shown (0: until Ctrl-C)
  int64_t initial_items = 20000;     // bulk-loaded before the pipeline starts
  double rate = 200;                 // generator operations per second while streaming
  std::string config_path;           // empty: the embedded examples/users.yaml
};

core::Status RunDemo(const DemoOptions& options);

}  // namespace ddb2pg::app
