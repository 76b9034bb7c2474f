#include "tests/testing/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "tests/testing/temp_dir.h"

namespace sluice::testing {

std::string binary(const std::string& name) { return binDir() + "/" + name; }

ProcessResult runProcess(const std::vector<std::string>& argv, std::chrono::seconds timeout,
                         const std::string& workingDirectory, const std::map<std::string, std::string>& environment) {
  TempDir captures;
  std::string outPath = captures.file("stdout");
  std::string errPath = captures.file("stderr");
  ProcessResult result;
  pid_t child = fork();
  if (child == 0) {
    int outFd = open(outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int errFd = open(errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int nullFd = open("/dev/null", O_RDONLY);
    dup2(nullFd, 0);
    dup2(outFd, 1);
    dup2(errFd, 2);
    if (!workingDirectory.empty() && chdir(workingDirectory.c_str()) != 0) _exit(127);
    for (const auto& [key, value] : environment) setenv(key.c_str(), value.c_str(), 1);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  auto started = std::chrono::steady_clock::now();
  auto deadline = started + timeout;
  int status = 0;
  struct rusage usage {};
  while (true) {
    pid_t done = wait4(child, &status, WNOHANG, &usage);
    if (done == child) {
      result.maxResidentKb = usage.ru_maxrss;
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      result.timedOut = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (WIFEXITED(status)) {
    result.exitCode = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  result.out = readFile(outPath);
  result.err = readFile(errPath);
  return result;
}

}  // namespace sluice::testing

namespace sluice::testing {

ChildProcess::ChildProcess(const std::vector<std::string>& argv,
                           const std::map<std::string, std::string>& environment) {
  std::string pattern = (std::filesystem::temp_directory_path() / "sluice-child-XXXXXX").string();
  directory_ = mkdtemp(pattern.data());
  outPath_ = directory_ + "/stdout";
  errPath_ = directory_ + "/stderr";
  pid_ = fork();
  if (pid_ == 0) {
    int outFd = open(outPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int errFd = open(errPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int nullFd = open("/dev/null", O_RDONLY);
    dup2(nullFd, 0);
    dup2(outFd, 1);
    dup2(errFd, 2);
    for (const auto& [key, value] : environment) setenv(key.c_str(), value.c_str(), 1);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
}

ChildProcess::~ChildProcess() {
  kill(SIGKILL);
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

void ChildProcess::kill(int signal) {
  if (pid_ <= 0) return;
  ::kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

std::string ChildProcess::waitForFirstLine(std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string text = readFile(outPath_);
    auto newline = text.find('\n');
    if (newline != std::string::npos) return text.substr(0, newline);
    if (!running()) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return "";
}

std::string ChildProcess::out() const { return readFile(outPath_); }
std::string ChildProcess::err() const { return readFile(errPath_); }

}  // namespace sluice::testing
