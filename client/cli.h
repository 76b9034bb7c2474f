// The `sluice` command line: parses arguments and runs a subcommand.
#pragma once

namespace sluice {

/// Runs the `sluice` CLI. Results and ids go to stdout, logs and progress to
/// stderr. Returns the process exit code: 0 on success, 1 when a job failed or
/// a command could not be carried out, 2 for a usage error.
int runCli(int argc, char** argv);

}  // namespace sluice
