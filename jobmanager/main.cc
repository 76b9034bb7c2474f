// Entry point of `sluice-jobmanager`.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <string>

#include "jobmanager/job_manager.h"
#include "runtime/base/logging.h"
#include "runtime/job/configuration_file.h"

namespace {
volatile std::sig_atomic_t stopRequested = 0;
void onSignal(int) { stopRequested = 1; }
}  // namespace

int main(int argc, char** argv) {
  sluice::initLoggingFromEnvironment();
  CLI::App app{"sluice-jobmanager: accepts jobs from clients and schedules them onto workers"};
  std::string bind = "127.0.0.1";
  int port = -1;
  std::string checkpointDir;
  std::string dataDir;
  std::string configFile;
  std::string logLevel;
  app.add_option("--bind", bind, "address to bind (default 127.0.0.1; there is no authentication yet)");
  app.add_option("--port", port, "port (default 6123 or jobmanager.rpc.port; 0 picks a free port)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--checkpoint-dir", checkpointDir, "sets state.checkpoints.dir");
  app.add_option("--data-dir", dataDir, "where uploaded plugins are stored (default: a temporary directory)");
  app.add_option("--config", configFile, "cluster configuration file (YAML, Flink-style keys)");
  app.add_option("--log-level", logLevel, "trace, debug, info (default), warn, error, off");
  CLI11_PARSE(app, argc, argv);
  sluice::setLogLevel(logLevel.empty() ? "info" : logLevel);
  if (!logLevel.empty() || std::getenv("SLUICE_LOG_LEVEL")) sluice::initLoggingFromEnvironment();
  if (!logLevel.empty() && !sluice::setLogLevel(logLevel)) {
    std::fprintf(stderr, "sluice-jobmanager: unknown log level '%s'\n", logLevel.c_str());
    return 2;
  }

  sluice::JobManagerOptions options;
  options.dataDirectory = dataDir;
  if (!configFile.empty()) {
    auto loaded = sluice::loadConfigurationFile(configFile);
    if (!loaded.ok()) {
      std::fprintf(stderr, "sluice-jobmanager: %s\n", loaded.status().message().c_str());
      return 1;
    }
    options.clusterConfig = *loaded;
  }
  if (!checkpointDir.empty()) {
    sluice::Status set = options.clusterConfig.set("state.checkpoints.dir", checkpointDir);
    if (!set.ok()) {
      std::fprintf(stderr, "sluice-jobmanager: %s\n", set.message().c_str());
      return 1;
    }
  }
  options.bindAddress = bind;
  options.port =
      port >= 0 ? port : static_cast<int>(options.clusterConfig.getInteger("jobmanager.rpc.port").value_or(6123));
  auto manager = sluice::JobManager::start(options);
  if (!manager.ok()) {
    std::fprintf(stderr, "sluice-jobmanager: %s\n", manager.status().message().c_str());
    return 1;
  }
  // The bound port on stdout lets scripts and tests use --port 0.
  std::printf("%d\n", (*manager)->port());
  std::fflush(stdout);
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  while (!stopRequested) pause();
  (*manager)->stop();
  return 0;
}
