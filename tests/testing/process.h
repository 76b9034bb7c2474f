// Runs a child process (a Sluice binary) for integration tests and captures its output.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace sluice::testing {

struct ProcessResult {
  int exitCode = -1;  // -1 when killed by a signal or timed out
  int signal = 0;     // the terminating signal, if any
  bool timedOut = false;
  std::string out;
  std::string err;
};

/// Runs `argv` (argv[0] is a path) in `workingDirectory` (empty = current) with
/// extra environment variables, waits at most `timeout` (then kills it), and
/// returns its exit status and captured stdout/stderr.
ProcessResult runProcess(const std::vector<std::string>& argv, std::chrono::seconds timeout = std::chrono::seconds(120),
                         const std::string& workingDirectory = "",
                         const std::map<std::string, std::string>& environment = {});

/// The path of a built binary, e.g. binary("sluice").
std::string binary(const std::string& name);

}  // namespace sluice::testing
