// Names the calling thread (as seen in top -H, perf, gdb and /proc/PID/task/TID/comm), so the
// CPU of each pipeline stage can be told apart. Linux keeps 15 bytes; longer names are cut.
#pragma once

#include <string_view>

namespace ddb2pg::core {

void SetCurrentThreadName(std::string_view name);

}  // namespace ddb2pg::core
