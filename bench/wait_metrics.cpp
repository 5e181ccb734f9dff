// wait_metrics: bench/run's wait for a timed ddb2pg run to finish, in one process over one
// kept-alive HTTP connection.
//
// Why not curl | awk in a shell loop: on the 2-core bench machine one such poll (a date, a curl
// and an awk process) costs ~50 ms of CPU, so a 20 ms poll interval took most of a core away from
// the run being timed. Here a poll is one GET of /metrics on an open connection and a scan of its
// text: well under a millisecond.
//
//   wait_metrics URL PID ROWS [--tables N] [--complete SOURCE] [--interval-ms N] [--timeout-s N]
//
// Polls URL (ddb2pg's /metrics) until N series of ddb2pg_rows_written_total exist (default 3:
// the reference job's tables) and each is at least ROWS, and, with --complete, until
// ddb2pg_snapshot_complete{source="SOURCE"} is 1. Prints one line,
//   done_at=EPOCH_SECONDS polls=N peak_threads=N
// (done_at from the real-time clock, like `date +%s.%N`; peak_threads is the most threads PID had
// at any poll) and exits 0. Exits 1 when PID is gone or a zombie first ("exited early"), 2 when the
// timeout (default 600 s) passes first, 64 on bad arguments.
#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

struct CurlDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};

size_t Append(char* data, size_t size, size_t count, void* body) {
  static_cast<std::string*>(body)->append(data, size * count);
  return size * count;
}

// What one /metrics page says about the run.
struct Progress {
  int tables = 0;              // ddb2pg_rows_written_total series seen
  double min_rows = 0;         // the smallest of them
  bool snapshot_complete = false;
};

Progress Read(std::string_view page, const std::string& complete_series) {
  Progress progress;
  bool first = true;
  while (!page.empty()) {
    const size_t end = page.find('\n');
    const std::string_view line = page.substr(0, end);
    page = end == std::string_view::npos ? std::string_view() : page.substr(end + 1);
    const size_t space = line.rfind(' ');
    if (line.empty() || line[0] == '#' || space == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, space);
    const double value = std::strtod(std::string(line.substr(space + 1)).c_str(), nullptr);
    if (name.starts_with("ddb2pg_rows_written_total")) {
      ++progress.tables;
      progress.min_rows = first ? value : std::min(progress.min_rows, value);
      first = false;
    } else if (!complete_series.empty() && name == complete_series) {
      progress.snapshot_complete = value == 1;
    }
  }
  return progress;
}

// The process's thread count, or -1 once it is gone or a zombie (its parent has not reaped it).
int Threads(const std::string& pid) {
  std::ifstream status("/proc/" + pid + "/status");
  std::string line;
  int threads = -1;
  bool zombie = false;
  while (std::getline(status, line)) {
    if (line.starts_with("State:")) zombie = line.find('Z') != std::string::npos;
    if (line.starts_with("Threads:")) threads = std::atoi(line.c_str() + 8);
  }
  return zombie ? -1 : threads;
}

double EpochSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int Usage() {
  std::fprintf(stderr,
               "usage: wait_metrics URL PID ROWS [--tables N] [--complete SOURCE] [--interval-ms N] "
               "[--timeout-s N]\n");
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 3 || args.size() % 2 == 0) return Usage();
  const std::string& url = args[0];
  const std::string& pid = args[1];
  const double rows = std::atof(args[2].c_str());
  int tables = 3;
  std::string complete_series;
  int interval_ms = 20;
  int timeout_s = 600;
  for (size_t i = 3; i + 1 < args.size(); i += 2) {
    if (args[i] == "--tables") tables = std::atoi(args[i + 1].c_str());
    else if (args[i] == "--complete") complete_series = "ddb2pg_snapshot_complete{source=\"" + args[i + 1] + "\"}";
    else if (args[i] == "--interval-ms") interval_ms = std::atoi(args[i + 1].c_str());
    else if (args[i] == "--timeout-s") timeout_s = std::atoi(args[i + 1].c_str());
    else return Usage();
  }

  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  std::string body;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 1000L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int polls = 0;
  int peak_threads = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    const int threads = Threads(pid);
    if (threads < 0) {
      std::fprintf(stderr, "wait_metrics: process %s exited early\n", pid.c_str());
      return 1;
    }
    peak_threads = std::max(peak_threads, threads);
    body.clear();
    ++polls;
    // Not listening yet, or a slow answer under load: the next poll asks again.
    if (curl_easy_perform(curl.get()) == CURLE_OK) {
      const Progress progress = Read(body, complete_series);
      if (progress.tables == tables && progress.min_rows >= rows &&
          (complete_series.empty() || progress.snapshot_complete)) {
        std::printf("done_at=%.6f polls=%d peak_threads=%d\n", EpochSeconds(), polls, peak_threads);
        return 0;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
  std::fprintf(stderr, "wait_metrics: %s not reached in %d s\n", url.c_str(), timeout_s);
  return 2;
}
