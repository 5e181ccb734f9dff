// InProcessRun: `ddb2pg run` inside the test process — the configuration wired as the binary
// wires it, its pipelines run on a thread until Stop(). Start() again after Stop() is a restart:
// a stop ends every sleep and retry of the process, so Start() allows them again.
//
// Owns its wiring, metrics and thread; not thread-safe (one test thread drives it).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

#include "app/run_pipelines.h"
#include "app/wiring.h"
#include "aws/retry_policy.h"
#include "core/clock.h"
#include "pipeline/metrics.h"

namespace ddb2pg::testing {

class InProcessRun {
 public:
  InProcessRun() = default;
  InProcessRun(const InProcessRun&) = delete;
  InProcessRun& operator=(const InProcessRun&) = delete;
  ~InProcessRun() { Stop(); }

  // Fresh metrics for each start. A wiring error fails the test.
  void Start(config::Config config) {
    Stop();
    auto wired = app::Wire(std::move(config), true);
    ASSERT_TRUE(wired.ok()) << wired.status().ToString();
    wiring_ = std::move(wired).value();
    metrics_ = std::make_unique<pipeline::Metrics>();
    stop_ = false;
    aws::AllowRetries();
    core::SystemClock::AllowSleeping();
    finished_ = false;
    thread_ = std::thread([this] {
      app::RunOptions run;
      run.progress = app::ProgressMode::kOff;
      run.init_schema = true;
      run.external_stop = &stop_;
      run.export_polls = export_polls_;
      result_ = app::RunPipelines(*wiring_, *metrics_, run);
      finished_ = true;
    });
  }
  // Asks the pipelines to stop, as SIGTERM does, and waits for them.
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // How often a requested export is polled (from the next Start()).
  void set_export_polls(source::ExportRequesterOptions polls) { export_polls_ = polls; }
  // Whether the run has ended on its own (a failure) or after Stop().
  bool finished() const { return finished_.load(); }
  pipeline::Metrics& metrics() { return *metrics_; }
  const core::Status& result() const { return result_; }

 private:
  std::unique_ptr<app::Wiring> wiring_;
  std::unique_ptr<pipeline::Metrics> metrics_ = std::make_unique<pipeline::Metrics>();
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  source::ExportRequesterOptions export_polls_;
  std::thread thread_;
  core::Status result_;
};

}  // namespace ddb2pg::testing
