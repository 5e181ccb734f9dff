// RunPipelines: runs every source of a wired configuration until a signal, a time limit or a
// fatal error; serves /metrics, /healthz, /readyz; prints progress.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "app/wiring.h"
#include "core/status.h"
#include "pipeline/metrics.h"
#include "source/export_requester.h"

namespace ddb2pg::app {

enum class ProgressMode { kAuto, kBar, kPlain, kOff };

struct RunOptions {
  std::string metrics_listen;            // overrides config metrics.listen when non-empty; "off" disables
  std::chrono::seconds duration{0};      // 0: until SIGINT/SIGTERM
  ProgressMode progress = ProgressMode::kAuto;
  bool check_schema = true;              // check target tables before starting
  bool init_schema = false;              // create what is missing first (postgres.auto_create does too)
  int lanes = 0;                         // parallel lanes per source; 0: config runtime.lanes (0: the CPUs)
  const std::atomic<bool>* external_stop = nullptr;  // the demo stops the run through this
  std::atomic<int>* metrics_port = nullptr;          // receives the bound port (tests use :0)
  // Receives the number of source records committed so far (all sources), so the demo can wait
  // until the pipeline has applied what it wrote.
  std::atomic<int64_t>* records_committed = nullptr;
  // How often a requested export (snapshot.export.s3_bucket) is polled with DescribeExport.
  source::ExportRequesterOptions export_polls;
};

// Installs SIGINT/SIGTERM handlers that request a graceful stop (a second signal exits at once).
void InstallStopSignals();
bool StopSignalled();

// Blocks; Ok when stopped by a signal, the duration or external_stop after the final commits.
core::Status RunPipelines(Wiring& wiring, pipeline::Metrics& metrics, const RunOptions& options);

}  // namespace ddb2pg::app
