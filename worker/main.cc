// Entry point of `sluice-worker`.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "runtime/base/logging.h"

int main(int argc, char** argv) {
  sluice::initLoggingFromEnvironment();
  CLI::App app{"sluice-worker: runs tasks for a job manager"};
  std::string jobManager;
  int slots = 2;
  std::string dataDir;
  std::string bind = "127.0.0.1";
  int port = 0;
  std::string advertise;
  app.add_option("--jobmanager", jobManager, "job manager HOST:PORT")->required();
  app.add_option("--slots", slots, "task slots")->check(CLI::PositiveNumber);
  app.add_option("--data-dir", dataDir, "directory for local state");
  app.add_option("--bind", bind, "data endpoint bind address (default 127.0.0.1)");
  app.add_option("--port", port, "data endpoint port (0 picks a free port)")->check(CLI::Range(0, 65535));
  app.add_option("--advertise", advertise, "host name other processes use to reach this worker");
  CLI11_PARSE(app, argc, argv);
  std::fprintf(stderr,
               "sluice-worker: the networked worker is not part of this build yet; "
               "run jobs with 'sluice run --local'\n");
  return 1;
}
