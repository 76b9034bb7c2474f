// Entry point of `sluice-worker`.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <string>
#include <thread>

#include "runtime/base/logging.h"
#include "worker/worker.h"

namespace {
volatile std::sig_atomic_t stopRequested = 0;
void onSignal(int) { stopRequested = 1; }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sluice-worker: runs tasks for a job manager"};
  sluice::WorkerOptions options;
  std::string logLevel;
  int heartbeatMs = 1000;
  app.add_option("--jobmanager", options.jobManager, "job manager HOST:PORT")->required();
  app.add_option("--slots", options.slots, "task slots (default 2)")->check(CLI::PositiveNumber);
  app.add_option("--data-dir", options.dataDirectory, "directory for local state");
  app.add_option("--bind", options.bindAddress, "data endpoint bind address (default 127.0.0.1)");
  app.add_option("--port", options.port, "data endpoint port (0 picks a free port)")->check(CLI::Range(0, 65535));
  app.add_option("--advertise", options.advertiseHost, "host name other processes use to reach this worker");
  app.add_option("--id", options.workerId, "worker id (default: generated)");
  app.add_option("--heartbeat-interval-ms", heartbeatMs, "heartbeat interval")->check(CLI::PositiveNumber);
  app.add_option("--log-level", logLevel, "trace, debug, info (default), warn, error, off");
  CLI11_PARSE(app, argc, argv);
  sluice::setLogLevel(logLevel.empty() ? "info" : logLevel);
  if (logLevel.empty()) sluice::initLoggingFromEnvironment();
  options.heartbeatInterval = std::chrono::milliseconds(heartbeatMs);

  auto worker = sluice::Worker::start(options);
  if (!worker.ok()) {
    std::fprintf(stderr, "sluice-worker: %s\n", worker.status().message().c_str());
    return 1;
  }
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  sluice::logger("worker")->info("worker {} started, data endpoint {}", (*worker)->workerId(),
                                 (*worker)->dataEndpoint());
  while (!stopRequested) {
    sluice::Status refusal = (*worker)->refusal();
    if (!refusal.ok()) {
      std::fprintf(stderr, "sluice-worker: %s\n", refusal.message().c_str());
      (*worker)->stop();
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  (*worker)->stop();
  return 0;
}
