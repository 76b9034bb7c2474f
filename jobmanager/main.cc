// Entry point of `sluice-jobmanager`.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "runtime/base/logging.h"

int main(int argc, char** argv) {
  sluice::initLoggingFromEnvironment();
  CLI::App app{"sluice-jobmanager: accepts jobs from clients and schedules them onto workers"};
  std::string bind = "127.0.0.1";
  int port = 6123;
  std::string checkpointDir;
  std::string configFile;
  app.add_option("--bind", bind, "address to bind (default 127.0.0.1)");
  app.add_option("--port", port, "port (default 6123; 0 picks a free port)")->check(CLI::Range(0, 65535));
  app.add_option("--checkpoint-dir", checkpointDir, "sets state.checkpoints.dir");
  app.add_option("--config", configFile, "cluster configuration file (YAML, Flink-style keys)");
  CLI11_PARSE(app, argc, argv);
  std::fprintf(stderr,
               "sluice-jobmanager: the networked job manager is not part of this build yet; "
               "run jobs with 'sluice run --local'\n");
  return 1;
}
