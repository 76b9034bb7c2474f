// Reading configuration from YAML: a cluster config file, or a job file's `config:` section.
#pragma once

#include <string>

#include <yaml-cpp/yaml.h>

#include "runtime/base/result.h"
#include "runtime/job/configuration.h"

namespace sluice {

/// Sets every entry of the YAML mapping `node` on `config`. Keys may be flat
/// Flink keys (`state.backend.type: rocksdb`) or nested maps whose keys are
/// joined with dots (`state: {backend: {type: rocksdb}}`); values must be
/// scalars. A null `node` sets nothing. Errors are one line, prefixed with
/// `displayName` and the offending line ("job.yaml:3: configuration key ...").
Status applyConfigurationYaml(const YAML::Node& node, const std::string& displayName, Configuration* config);

/// Reads a cluster configuration file (the job manager's `--config FILE`): a
/// YAML mapping as accepted by `applyConfigurationYaml`. An empty file is an
/// empty configuration; a missing one is a NotFound error naming it.
Result<Configuration> loadConfigurationFile(const std::string& path);

}  // namespace sluice
