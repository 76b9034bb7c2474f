#include "client/cli.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "jobmanager/local_cluster.h"
#include "runtime/base/logging.h"

namespace sluice {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

/// Splits "key=value"; errors name the flag.
Result<std::pair<std::string, std::string>> splitAssignment(const std::string& text, const std::string& flag) {
  auto equals = text.find('=');
  if (equals == std::string::npos || equals == 0) {
    return Status::invalidArgument(flag + " expects KEY=VALUE, got '" + text + "'");
  }
  return std::make_pair(text.substr(0, equals), text.substr(equals + 1));
}

Result<std::map<std::string, std::string>> parseAssignments(const std::vector<std::string>& items,
                                                            const std::string& flag) {
  std::map<std::string, std::string> out;
  for (const auto& item : items) {
    SLUICE_ASSIGN_OR_RETURN(auto pair, splitAssignment(item, flag));
    out[pair.first] = pair.second;
  }
  return out;
}

Result<std::string> readJobFile(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return Status::notFound("job file '" + path + "' does not exist");
  if (std::filesystem::is_directory(path, error)) return Status::invalidArgument("job file '" + path + "' is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::ioError("cannot read job file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string formatCount(int64_t value) {
  std::string digits = std::to_string(value);
  std::string out;
  int count = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (count > 0 && count % 3 == 0 && *it != '-') out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++count;
  }
  return out;
}

struct RunArguments {
  bool local = false;
  bool detached = false;
  int parallelism = 0;
  bool parallelismSet = false;
  std::string savepointPath;
  bool allowNonRestoredState = false;
  std::vector<std::string> dynamicProperties;
  std::string jobFile;
  std::vector<std::string> parameters;
};

int runLocal(const RunArguments& arguments) {
  auto fail = [](const Status& status) {
    std::fprintf(stderr, "sluice run: %s\n", status.message().c_str());
    return kExitFailure;
  };
  if (arguments.detached) return fail(Status::invalidArgument("-d cannot be combined with --local"));
  if (!arguments.savepointPath.empty()) {
    return fail(Status::invalidArgument("-s (resume from a savepoint) is not supported with --local yet"));
  }
  auto text = readJobFile(arguments.jobFile);
  if (!text.ok()) return fail(text.status());
  JobSubmission submission;
  submission.jobText = *text;
  submission.jobPath = arguments.jobFile;
  submission.workingDirectory = std::filesystem::current_path().string();
  auto parameters = parseAssignments(arguments.parameters, "--set");
  if (!parameters.ok()) return fail(parameters.status());
  submission.parameters = *parameters;
  auto properties = parseAssignments(arguments.dynamicProperties, "-D");
  if (!properties.ok()) return fail(properties.status());
  submission.dynamicProperties = *properties;
  if (arguments.parallelismSet) submission.parallelism = arguments.parallelism;

  LocalCluster cluster;
  auto outcome = cluster.runJob(submission);
  if (!outcome.ok()) return fail(outcome.status());
  const JobOutcome& result = *outcome;
  double seconds = result.duration.count();
  double throughput = seconds > 0 ? static_cast<double>(result.counters.recordsRead) / seconds : 0;
  if (!result.status.ok()) {
    std::fprintf(stderr, "sluice run: job '%s' (%s) failed: %s\n", result.name.c_str(), result.jobId.c_str(),
                 result.status.message().c_str());
    return kExitFailure;
  }
  std::fprintf(stderr, "job '%s' finished: %s records in, %s records out, %.3f s, %s records/s (%d tasks)\n",
               result.name.c_str(), formatCount(result.counters.recordsRead).c_str(),
               formatCount(result.counters.recordsWritten).c_str(), seconds,
               formatCount(static_cast<int64_t>(throughput)).c_str(), result.tasks);
  std::printf("%s\n", result.jobId.c_str());
  return 0;
}

int clusterCommandUnavailable(const std::string& command) {
  std::fprintf(stderr,
               "sluice %s: this build runs jobs on an embedded cluster only (sluice run --local); "
               "cluster commands need a job manager, which is not available yet\n",
               command.c_str());
  return kExitFailure;
}

}  // namespace

int runCli(int argc, char** argv) {
  initLoggingFromEnvironment();
  CLI::App app{"sluice: submit and manage Sluice stream-processing jobs"};
  app.require_subcommand(1);
  std::string jobManager = std::getenv("SLUICE_JOBMANAGER") ? std::getenv("SLUICE_JOBMANAGER") : "127.0.0.1:6123";
  std::string logLevel;
  app.add_option("--jobmanager", jobManager, "job manager address HOST:PORT (env SLUICE_JOBMANAGER)");
  app.add_option("--log-level", logLevel, "trace, debug, info, warn (default), error or off (env SLUICE_LOG_LEVEL)");

  RunArguments run;
  CLI::App* runCommand = app.add_subcommand("run", "run a job; waits for a bounded job to finish unless -d");
  runCommand->add_flag("--local", run.local, "run on an embedded cluster inside this process");
  runCommand->add_flag("-d,--detached", run.detached, "submit, print the job id and return");
  runCommand->add_option("-p,--parallelism", run.parallelism, "default parallelism of the job's nodes")
      ->check(CLI::PositiveNumber.description(" (a positive integer)"));
  runCommand->add_option("-s,--from-savepoint", run.savepointPath, "resume from a savepoint or retained checkpoint");
  runCommand->add_flag("--allow-non-restored-state", run.allowNonRestoredState,
                       "drop state of nodes that no longer exist when resuming");
  runCommand->add_option("-D", run.dynamicProperties, "configuration override KEY=VALUE (repeatable)");
  runCommand->add_option("job", run.jobFile, "job file (YAML)")->required();
  runCommand->add_option("--set", run.parameters, "job parameter KEY=VALUE filling ${KEY} (repeatable)");

  bool json = false;
  std::string jobId;
  std::string directory;
  bool drain = false;
  CLI::App* listCommand = app.add_subcommand("list", "list jobs, oldest first");
  listCommand->add_flag("--json", json, "print JSON");
  CLI::App* statusCommand = app.add_subcommand("status", "show a job's state, tasks and checkpoints");
  statusCommand->add_option("job_id", jobId, "job id")->required();
  statusCommand->add_flag("--json", json, "print JSON");
  CLI::App* cancelCommand = app.add_subcommand("cancel", "cancel a job");
  cancelCommand->add_option("job_id", jobId, "job id")->required();
  CLI::App* savepointCommand = app.add_subcommand("savepoint", "take a savepoint of a running job");
  savepointCommand->add_option("job_id", jobId, "job id")->required();
  savepointCommand->add_option("dir", directory, "target directory");
  CLI::App* stopCommand = app.add_subcommand("stop", "stop a job with a savepoint");
  stopCommand->add_option("job_id", jobId, "job id")->required();
  stopCommand->add_option("--savepoint", directory, "savepoint directory")->required();
  stopCommand->add_flag("--drain", drain, "fire all event-time windows before stopping");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::ParseError& error) {
    std::string message = error.what();
    std::fprintf(stderr, "sluice: %s (see sluice --help)\n", message.c_str());
    return kExitUsage;
  }
  if (!logLevel.empty() && !setLogLevel(logLevel)) {
    std::fprintf(stderr, "sluice: unknown log level '%s'\n", logLevel.c_str());
    return kExitUsage;
  }
  if (runCommand->parsed()) {
    if (run.local) return runLocal(run);
    return clusterCommandUnavailable("run");
  }
  for (CLI::App* command : {listCommand, statusCommand, cancelCommand, savepointCommand, stopCommand}) {
    if (command->parsed()) return clusterCommandUnavailable(command->get_name());
  }
  return kExitUsage;
}

}  // namespace sluice
