#include <malloc.h>

#include <cstdlib>

#include "app/cli.h"

int main(int argc, char** argv) {
  // Records are decoded on the source's threads and freed on the mapper's. With glibc's default
  // of up to 8 arenas per core, each of the ~20 reader threads grew an arena of its own, which
  // multiplied the peak RSS (measured with bench/replay_server as the source: 147 MB with the
  // default, 80 MB with 2 arenas, at the same speed). With 16 segments and 16 shards read at once
  // and 2 lanes (bench/run 5b), 2 arenas peaked at 66.2 MB and 1 arena at 61.6 MB, for 91.1k vs
  // 87.5k rows/s in back-to-back runs on a busy 2-CPU machine (within its run-to-run spread):
  // one arena keeps the 64 MB budget. MALLOC_ARENA_MAX in the environment wins.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 1);
  return ddb2pg::app::RunCli(argc, argv);
}
