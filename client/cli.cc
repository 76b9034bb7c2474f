#include "client/cli.h"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include <thread>

#include "jobmanager/local_cluster.h"
#include "runtime/base/logging.h"
#include "runtime/transport/control_channel.h"
#include "worker/job_preparation.h"

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
  if (std::filesystem::is_directory(path, error))
    return Status::invalidArgument("job file '" + path + "' is a directory");
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

/// A directory created on demand and removed with this object.
class TemporaryDirectory {
 public:
  TemporaryDirectory() = default;
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  ~TemporaryDirectory() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  Result<std::string> create(const std::string& prefix) {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return Status::ioError("cannot create a temporary directory: " + std::string(std::strerror(errno)));
    }
    path_ = pattern;
    return path_;
  }

 private:
  std::string path_;
};

struct RunArguments {
  bool local = false;
  bool detached = false;
  int parallelism = 0;
  std::string savepointPath;
  bool allowNonRestoredState = false;
  std::vector<std::string> dynamicProperties;
  std::string jobFile;
  std::vector<std::string> parameters;
};

std::string formatCount(const nlohmann::json& value) { return formatCount(value.get<int64_t>()); }

int fail(const std::string& command, const Status& status) {
  std::fprintf(stderr, "sluice %s: %s\n", command.c_str(), status.message().c_str());
  return kExitFailure;
}

bool isTerminal(const std::string& state) { return state == "FINISHED" || state == "FAILED" || state == "CANCELED"; }

Result<nlohmann::json> fetchStatus(const std::string& address, const std::string& jobId) {
  SLUICE_ASSIGN_OR_RETURN(transport::Reply reply, transport::requestReply(address, transport::StatusRequest{jobId}));
  if (!reply.ok) return Status::notFound(reply.error);
  return nlohmann::json::parse(reply.payload);
}

/// Polls the job until it ends, riding out restarts; prints progress to stderr
/// when it changes. Returns the final status.
Result<nlohmann::json> waitForJob(const std::string& address, const std::string& jobId, bool showProgress) {
  std::string lastLine;
  int unreachable = 0;
  while (true) {
    auto status = fetchStatus(address, jobId);
    if (!status.ok()) {
      // The job manager may be busy or restarting; give up after about 30 s.
      if (status.status().code() != StatusCode::kUnavailable || ++unreachable > 6) return status.status();
      continue;
    }
    unreachable = 0;
    const nlohmann::json& json = *status;
    std::string state = json["state"];
    if (isTerminal(state)) return json;
    if (showProgress) {
      std::string line = state + ", restarts " + std::to_string(json["restarts"].get<int>());
      if (line != lastLine) std::fprintf(stderr, "job %s: %s\n", jobId.c_str(), line.c_str());
      lastLine = line;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

int runJob(const RunArguments& arguments, const std::string& jobManager) {
  auto text = readJobFile(arguments.jobFile);
  if (!text.ok()) return fail("run", text.status());
  transport::JobDefinition job;
  job.jobText = *text;
  job.jobPath = arguments.jobFile;
  job.workingDirectory = std::filesystem::current_path().string();
  auto parameters = parseAssignments(arguments.parameters, "--set");
  if (!parameters.ok()) return fail("run", parameters.status());
  job.parameters = *parameters;
  auto properties = parseAssignments(arguments.dynamicProperties, "-D");
  if (!properties.ok()) return fail("run", properties.status());
  job.properties = *properties;
  job.parallelism = arguments.parallelism;
  if (!arguments.savepointPath.empty()) {
    std::error_code error;
    if (!std::filesystem::exists(arguments.savepointPath, error)) {
      return fail("run", Status::notFound("-s: no savepoint or checkpoint at '" + arguments.savepointPath + "'"));
    }
    job.restorePath = std::filesystem::absolute(arguments.savepointPath).string();
  }
  job.allowNonRestoredState = arguments.allowNonRestoredState;
  // Plugins travel with the job: the files its `plugins:` section names are uploaded.
  std::vector<transport::PluginFile> plugins;
  {
    auto spec = parseJobSpec(job.jobText, job.parameters, job.jobPath);
    if (!spec.ok()) return fail("run", spec.status());
    for (const PluginRef& plugin : spec->plugins) {
      std::filesystem::path path(plugin.path);
      if (path.is_relative()) path = std::filesystem::path(job.workingDirectory) / path;
      std::ifstream in(path, std::ios::binary);
      if (!in) {
        return fail("run", Status::notFound("plugin '" + plugin.name + "': cannot open '" + path.string() +
                                            "': " + std::strerror(errno)));
      }
      std::ostringstream content;
      content << in.rdbuf();
      plugins.push_back(transport::PluginFile{plugin.name, content.str()});
    }
  }
  TemporaryDirectory localCheckpoints;

  std::unique_ptr<LocalCluster> cluster;
  std::string address = jobManager;
  if (arguments.local) {
    if (arguments.detached) return fail("run", Status::invalidArgument("-d cannot be combined with --local"));
    // Validate before starting anything, and size the embedded cluster to the job.
    auto prepared = prepareJob(job, Configuration());
    if (!prepared.ok()) return fail("run", prepared.status());
    for (const auto& unused : prepared->spec.unusedParameters) {
      std::fprintf(stderr, "sluice run: warning: --set %s is not used by the job\n", unused.c_str());
    }
    int slots = 1;
    for (const GraphNode& node : prepared->graph.nodes()) slots = std::max(slots, node.parallelism);
    LocalClusterOptions options;
    options.slotsPerWorker = slots;
    options.clusterConfig = prepared->config;
    if (prepared->config.getDuration("execution.checkpointing.interval") &&
        !prepared->config.contains("state.checkpoints.dir")) {
      // Checkpoints of an embedded run live as long as the run unless a directory is given.
      auto directory = localCheckpoints.create("sluice-checkpoints-");
      if (!directory.ok()) return fail("run", directory.status());
      if (Status set = options.clusterConfig.set("state.checkpoints.dir", *directory); !set.ok()) {
        return fail("run", set);
      }
    }
    auto started = LocalCluster::start(options);
    if (!started.ok()) return fail("run", started.status());
    cluster = std::move(started).value();
    address = cluster->jobManagerAddress();
  }
  auto started = std::chrono::steady_clock::now();
  auto reply =
      transport::requestReply(address, transport::SubmitJob{job, std::move(plugins)}, std::chrono::seconds(30));
  if (!reply.ok()) return fail("run", reply.status());
  if (!reply->ok) return fail("run", Status::invalidArgument(reply->error));
  std::string jobId = reply->payload;
  if (arguments.detached) {
    std::printf("%s\n", jobId.c_str());
    return 0;
  }
  if (!arguments.local) std::fprintf(stderr, "job %s submitted to %s\n", jobId.c_str(), address.c_str());
  auto final = waitForJob(address, jobId, !arguments.local);
  if (!final.ok()) return fail("run", final.status());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const nlohmann::json& json = *final;
  std::string name = json["name"];
  std::string state = json["state"];
  if (state != "FINISHED") {
    std::string failure = json["failure"].is_string() ? json["failure"].get<std::string>() : state;
    std::fprintf(stderr, "sluice run: job '%s' (%s) %s: %s\n", name.c_str(), jobId.c_str(), state.c_str(),
                 failure.c_str());
    return kExitFailure;
  }
  int64_t recordsIn = json["records_in"];
  int64_t recordsOut = json["records_out"];
  double throughput = seconds > 0 ? static_cast<double>(recordsIn) / seconds : 0;
  std::fprintf(
      stderr, "job '%s' finished: %s records in, %s records out, %.3f s, %s records/s (%zu tasks, %d restarts)\n",
      name.c_str(), formatCount(recordsIn).c_str(), formatCount(recordsOut).c_str(), seconds,
      formatCount(static_cast<int64_t>(throughput)).c_str(), json["tasks"].size(), json["restarts"].get<int>());
  std::printf("%s\n", jobId.c_str());
  return 0;
}

std::string formatWatermark(const nlohmann::json& value) {
  if (!value.is_number()) return "-";
  int64_t ms = value.get<int64_t>();
  if (ms >= std::numeric_limits<int64_t>::max() / 2) return "end";
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  return std::string(text) + "Z";
}

void printStatus(const nlohmann::json& json) {
  std::printf("job %s  %s  %s\n", json["id"].get<std::string>().c_str(), json["name"].get<std::string>().c_str(),
              json["state"].get<std::string>().c_str());
  std::printf("  restarts %d, records in %s, records out %s\n", json["restarts"].get<int>(),
              formatCount(json["records_in"]).c_str(), formatCount(json["records_out"]).c_str());
  if (json["failure"].is_string()) std::printf("  failure: %s\n", json["failure"].get<std::string>().c_str());
  const nlohmann::json& checkpoints = json["checkpoints"];
  if (checkpoints.value("enabled", false)) {
    std::string line = "  checkpoints: " + std::to_string(checkpoints["completed"].get<int64_t>()) + " completed";
    if (checkpoints["latest"].is_number()) line += ", latest " + std::to_string(checkpoints["latest"].get<int64_t>());
    if (checkpoints["in_progress"].is_number()) {
      line += ", " + std::to_string(checkpoints["in_progress"].get<int64_t>()) + " in progress";
    }
    if (json["restored_from"].is_number()) {
      line += "; restored from " + std::to_string(json["restored_from"].get<int64_t>());
    }
    std::printf("%s\n", line.c_str());
    for (const auto& entry : checkpoints["history"]) {
      std::printf(
          "    #%-5lld %-11s %7lld ms %12s bytes (%s new), start delay %lld ms, alignment %lld ms, sync %lld ms, "
          "upload %lld ms\n",
          static_cast<long long>(entry["id"].get<int64_t>()), entry["status"].get<std::string>().c_str(),
          static_cast<long long>(entry["duration_ms"].get<int64_t>()), formatCount(entry["size_bytes"]).c_str(),
          formatCount(entry["incremental_size_bytes"]).c_str(),
          static_cast<long long>(entry.value("start_delay_ms", int64_t{0})),
          static_cast<long long>(entry["alignment_ms"].get<int64_t>()),
          static_cast<long long>(entry.value("sync_ms", int64_t{0})),
          static_cast<long long>(entry.value("async_ms", int64_t{0})));
    }
  }
  std::printf("  %-20s %8s %-20s %-10s %12s %12s %6s  %s\n", "node", "subtask", "worker", "state", "records in",
              "records out", "bp", "watermark");
  for (const auto& task : json["tasks"]) {
    std::printf("  %-20s %8d %-20s %-10s %12s %12s %5.0f%%  %s\n", task["node"].get<std::string>().c_str(),
                task["subtask"].get<int>(), task["worker"].get<std::string>().c_str(),
                task["state"].get<std::string>().c_str(), formatCount(task["records_in"]).c_str(),
                formatCount(task["records_out"]).c_str(), 100.0 * task.value("backpressure", 0.0),
                formatWatermark(task["watermark"]).c_str());
  }
}

int clusterRequest(const std::string& command, const std::string& address, transport::ControlBody request, bool json,
                   const std::string& jobId) {
  auto reply = transport::requestReply(address, std::move(request));
  if (!reply.ok()) return fail(command, reply.status());
  if (!reply->ok) return fail(command, Status::invalidArgument(reply->error));
  if (command == "cancel") {
    std::printf("canceled %s\n", jobId.c_str());
    return 0;
  }
  auto parsed = nlohmann::json::parse(reply->payload, nullptr, false);
  if (json || parsed.is_discarded()) {
    std::printf("%s\n", reply->payload.c_str());
    return 0;
  }
  if (command == "workers") {
    std::printf("%-24s %6s %6s  %s\n", "worker", "slots", "free", "data endpoint");
    for (const auto& worker : parsed) {
      std::printf("%-24s %6d %6d  %s\n", worker["id"].get<std::string>().c_str(), worker["slots"].get<int>(),
                  worker["free_slots"].get<int>(), worker["data_endpoint"].get<std::string>().c_str());
    }
    return 0;
  }
  if (command == "list") {
    std::printf("%-32s  %-24s %-10s %s\n", "id", "name", "state", "restarts");
    for (const auto& job : parsed) {
      std::printf("%-32s  %-24s %-10s %d\n", job["id"].get<std::string>().c_str(),
                  job["name"].get<std::string>().c_str(), job["state"].get<std::string>().c_str(),
                  job["restarts"].get<int>());
    }
    return 0;
  }
  printStatus(parsed);
  return 0;
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
  run.parallelism = 0;
  CLI::App* runCommand = app.add_subcommand("run", "run a job; waits for a bounded job to finish unless -d");
  runCommand->add_flag("--local", run.local, "run on an embedded cluster inside this process");
  runCommand->add_flag("-d,--detached", run.detached, "submit, print the job id and return");
  runCommand->add_option("-p,--parallelism", run.parallelism, "default parallelism of the job's nodes")
      ->check(CLI::PositiveNumber.description(" (a positive integer)"));
  runCommand->add_option("-s,--from-savepoint", run.savepointPath, "resume from a savepoint or retained checkpoint");
  runCommand->add_flag("--allow-non-restored-state", run.allowNonRestoredState,
                       "drop state of nodes that no longer exist when resuming");
  runCommand->add_option("-D", run.dynamicProperties, "configuration override KEY=VALUE (repeatable)")
      ->allow_extra_args(false);
  runCommand->add_option("job", run.jobFile, "job file (YAML)")->required();
  runCommand->add_option("--set", run.parameters, "job parameter KEY=VALUE filling ${KEY} (repeatable)")
      ->allow_extra_args(false);

  bool json = false;
  std::string jobId;
  std::string directory;
  bool drain = false;
  CLI::App* listCommand = app.add_subcommand("list", "list jobs, oldest first");
  listCommand->add_flag("--json", json, "print JSON");
  CLI::App* statusCommand = app.add_subcommand("status", "show a job's state, tasks and checkpoints");
  statusCommand->add_option("job_id", jobId, "job id")->required();
  statusCommand->add_flag("--json", json, "print JSON");
  CLI::App* workersCommand = app.add_subcommand("workers", "list the registered workers and their slots");
  workersCommand->add_flag("--json", json, "print JSON");
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
  // An embedded cluster's internals only speak up on errors unless asked to;
  // the command prints its own one-line outcome.
  if (logLevel.empty() && std::getenv("SLUICE_LOG_LEVEL") == nullptr && run.local) setLogLevel("error");
  if (!logLevel.empty() && !setLogLevel(logLevel)) {
    std::fprintf(stderr, "sluice: unknown log level '%s'\n", logLevel.c_str());
    return kExitUsage;
  }
  if (runCommand->parsed()) return runJob(run, jobManager);
  if (listCommand->parsed()) return clusterRequest("list", jobManager, transport::ListRequest{}, json, "");
  if (workersCommand->parsed()) return clusterRequest("workers", jobManager, transport::WorkersRequest{}, json, "");
  if (statusCommand->parsed())
    return clusterRequest("status", jobManager, transport::StatusRequest{jobId}, json, jobId);
  if (cancelCommand->parsed())
    return clusterRequest("cancel", jobManager, transport::CancelRequest{jobId}, false, jobId);
  for (CLI::App* command : {savepointCommand, stopCommand}) {
    if (!command->parsed()) continue;
    transport::SavepointRequest request{jobId, directory.empty() ? "" : std::filesystem::absolute(directory).string(),
                                        command == stopCommand, drain};
    auto reply = transport::requestReply(jobManager, request, std::chrono::minutes(10));
    if (!reply.ok()) return fail(command->get_name(), reply.status());
    if (!reply->ok) return fail(command->get_name(), Status::invalidArgument(reply->error));
    std::printf("%s\n", reply->payload.c_str());
    return 0;
  }
  return kExitUsage;
}

}  // namespace sluice
