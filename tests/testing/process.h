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
  long maxResidentKb = 0;  // peak resident memory of the child
  double seconds = 0;      // wall time
  std::string out;
  std::string err;
};

/// Runs `argv` (argv[0] is a path) in `workingDirectory` (empty = current) with
/// extra environment variables, waits at most `timeout` (then kills it), and
/// returns its exit status and captured stdout/stderr.
ProcessResult runProcess(const std::vector<std::string>& argv, std::chrono::seconds timeout = std::chrono::seconds(120),
                         const std::string& workingDirectory = "",
                         const std::map<std::string, std::string>& environment = {});

/// A child process running in the background (a job manager or a worker in an
/// integration test). Its stdout and stderr go to files; the destructor kills it.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv,
                        const std::map<std::string, std::string>& environment = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const { return pid_; }
  /// Sends `signal` (SIGKILL by default) and waits for the process to end.
  void kill(int signal = 9);
  /// Waits for the first line of stdout (e.g. a bound port); empty on timeout.
  std::string waitForFirstLine(std::chrono::seconds timeout = std::chrono::seconds(20));
  std::string out() const;
  std::string err() const;
  bool running();

 private:
  int pid_ = -1;
  std::string outPath_;
  std::string errPath_;
  std::string directory_;
};

/// The path of a built binary, e.g. binary("sluice").
std::string binary(const std::string& name);

}  // namespace sluice::testing
