// Tests for Configuration: duration parsing, key and value validation, defaults and overlay.
#include "runtime/job/configuration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/job/configuration_file.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace sluice {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

TEST(ConfigurationTest, ParsesDurations) {
  struct Case {
    std::string text;
    int64_t millis;
  };
  for (const Case& testCase : std::vector<Case>{{"200ms", 200},
                                                {"10s", 10'000},
                                                {"1min", 60'000},
                                                {"2h", 7'200'000},
                                                {"1500", 1500},
                                                {"1 s", 1000},
                                                {" 3 min ", 180'000},
                                                {"0", 0},
                                                {"1d", 86'400'000},
                                                {"5 SECONDS", 5000}}) {
    ASSERT_OK_AND_ASSIGN(milliseconds value, parseDuration(testCase.text));
    EXPECT_EQ(value.count(), testCase.millis) << testCase.text;
  }
}

TEST(ConfigurationTest, RejectsBadDurations) {
  for (const std::string text :
       {"", "abc", "-5s", "10 parsecs", "1.5s", "s", "99999999999999999999ms", "9999999999999999d"}) {
    Result<milliseconds> value = parseDuration(text);
    ASSERT_FALSE(value.ok()) << text;
    EXPECT_EQ(value.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(value.status().message(), HasSubstr("invalid duration '" + text + "'"));
  }
}

TEST(ConfigurationTest, DefaultsAndTypedGetters) {
  Configuration config;
  EXPECT_FALSE(config.getDuration("execution.checkpointing.interval").has_value());
  EXPECT_EQ(config.getDuration("execution.checkpointing.timeout"), milliseconds(600'000));
  EXPECT_EQ(config.getDuration("execution.buffer-timeout"), milliseconds(5));
  EXPECT_EQ(config.getInteger("parallelism.default"), 1);
  EXPECT_EQ(config.getInteger("pipeline.max-parallelism"), 128);
  EXPECT_EQ(config.getInteger("sluice.source.batch-size"), 4096);
  EXPECT_FALSE(config.getInteger("sluice.source.rate-limit").has_value());
  EXPECT_EQ(config.get("state.backend.type"), "rocksdb");
  EXPECT_EQ(config.getBool("execution.checkpointing.unaligned.enabled"), false);
  EXPECT_FALSE(config.get("state.checkpoints.dir").has_value());
  EXPECT_FALSE(config.get("no.such.key").has_value());
  EXPECT_FALSE(config.contains("parallelism.default"));

  ASSERT_OK(config.set("execution.checkpointing.interval", "1s"));
  ASSERT_OK(config.set("parallelism.default", " 4 "));
  ASSERT_OK(config.set("state.backend.type", "HashMap"));
  ASSERT_OK(config.set("execution.checkpointing.unaligned.enabled", "TRUE"));
  ASSERT_OK(config.set("state.checkpoints.dir", "/tmp/chk"));
  EXPECT_EQ(config.getDuration("execution.checkpointing.interval"), milliseconds(1000));
  EXPECT_EQ(config.getInteger("parallelism.default"), 4);
  EXPECT_EQ(config.get("state.backend.type"), "hashmap");
  EXPECT_EQ(config.getBool("execution.checkpointing.unaligned.enabled"), true);
  EXPECT_EQ(config.get("state.checkpoints.dir"), "/tmp/chk");
  EXPECT_TRUE(config.contains("parallelism.default"));
}

TEST(ConfigurationTest, KnownOptionsAreDocumentedAndValid) {
  std::set<std::string> keys;
  for (const ConfigOption& option : Configuration::knownOptions()) {
    EXPECT_TRUE(keys.insert(option.key).second) << "duplicate " << option.key;
    EXPECT_FALSE(option.description.empty()) << option.key;
    if (option.type == ConfigType::kEnum) {
      EXPECT_FALSE(option.allowed.empty()) << option.key;
    }
    // Every default must pass the option's own validation.
    if (option.defaultValue) {
      Configuration config;
      EXPECT_OK(config.set(option.key, *option.defaultValue));
    }
  }
  for (const char* required :
       {"execution.checkpointing.interval", "state.checkpoints.dir", "state.backend.type", "restart-strategy.type",
        "parallelism.default", "pipeline.max-parallelism", "execution.buffer-timeout", "sluice.source.rate-limit"}) {
    EXPECT_EQ(keys.count(required), 1u) << required;
  }
}

TEST(ConfigurationTest, UnknownKeySuggestsTheClosestKnownKey) {
  Configuration config;
  Status status = config.set("execution.checkpointing.intervall", "1s");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "unknown configuration key 'execution.checkpointing.intervall' (did you mean "
            "'execution.checkpointing.interval'?)");

  EXPECT_THAT(config.set("checkpointing.interval", "1s").message(),
              HasSubstr("did you mean 'execution.checkpointing.interval'?"));
  EXPECT_THAT(config.set("parallelism.defualt", "2").message(), HasSubstr("did you mean 'parallelism.default'?"));
  EXPECT_EQ(config.set("completely.different", "x").message(), "unknown configuration key 'completely.different'");
  EXPECT_TRUE(config.values().empty());
}

TEST(ConfigurationTest, BadValuesNameTheKeyAndWhatWasExpected) {
  Configuration config;
  EXPECT_EQ(config.set("parallelism.default", "abc").message(),
            "configuration key 'parallelism.default': expected a positive integer, got 'abc'");
  EXPECT_THAT(config.set("parallelism.default", "0").message(), HasSubstr("expected a positive integer, got '0'"));
  EXPECT_THAT(config.set("parallelism.default", "1.5").message(), HasSubstr("expected a positive integer"));
  EXPECT_THAT(config.set("pipeline.max-parallelism", "40000").message(),
              HasSubstr("expected an integer from 1 to 32768, got '40000'"));
  EXPECT_THAT(config.set("jobmanager.rpc.port", "-1").message(), HasSubstr("expected an integer from 0 to 65535"));
  EXPECT_THAT(config.set("execution.checkpointing.interval", "soon").message(),
              HasSubstr("configuration key 'execution.checkpointing.interval': expected a duration"));
  EXPECT_THAT(config.set("state.backend.type", "memory").message(),
              HasSubstr("expected one of rocksdb, hashmap, got 'memory'"));
  EXPECT_THAT(config.set("execution.checkpointing.unaligned.enabled", "yes").message(),
              HasSubstr("expected true or false, got 'yes'"));
  EXPECT_TRUE(config.values().empty());

  ASSERT_OK(config.set("sluice.source.rate-limit", "0"));
  ASSERT_OK(config.set("jobmanager.rpc.port", "0"));
}

TEST(ConfigurationTest, OverlayLetsTheHigherLevelWin) {
  Configuration cluster;
  ASSERT_OK(cluster.set("parallelism.default", "2"));
  ASSERT_OK(cluster.set("state.backend.type", "hashmap"));
  ASSERT_OK(cluster.set("heartbeat.timeout", "10s"));
  Configuration job;
  ASSERT_OK(job.set("parallelism.default", "3"));
  ASSERT_OK(job.set("execution.checkpointing.interval", "1s"));
  Configuration commandLine;
  ASSERT_OK(commandLine.set("parallelism.default", "8"));

  Configuration effective;  // defaults
  effective.overlay(cluster);
  effective.overlay(job);
  effective.overlay(commandLine);
  EXPECT_EQ(effective.getInteger("parallelism.default"), 8);
  EXPECT_EQ(effective.get("state.backend.type"), "hashmap");
  EXPECT_EQ(effective.getDuration("heartbeat.timeout"), milliseconds(10'000));
  EXPECT_EQ(effective.getDuration("execution.checkpointing.interval"), milliseconds(1000));
  EXPECT_EQ(effective.getDuration("heartbeat.interval"), milliseconds(1000));  // default
}

TEST(ConfigurationTest, LoadsClusterConfigFileWithFlatAndNestedKeys) {
  testing::TempDir directory;
  std::string path = directory.file("sluice.yaml");
  testing::writeFile(path,
                     "# cluster settings\n"
                     "parallelism.default: 4\n"
                     "state:\n"
                     "  backend: { type: hashmap }\n"
                     "  checkpoints.dir: /data/chk\n");
  ASSERT_OK_AND_ASSIGN(Configuration config, loadConfigurationFile(path));
  EXPECT_EQ(config.getInteger("parallelism.default"), 4);
  EXPECT_EQ(config.get("state.backend.type"), "hashmap");
  EXPECT_EQ(config.get("state.checkpoints.dir"), "/data/chk");

  testing::writeFile(path, "parallelism.default: 4\nheartbeat.timeout: [1s]\n");
  EXPECT_EQ(loadConfigurationFile(path).status().message(),
            path + ":2: configuration key 'heartbeat.timeout': expected a single value, got a list");
  testing::writeFile(path, "state.backend.typo: hashmap\n");
  EXPECT_THAT(loadConfigurationFile(path).status().message(),
              HasSubstr(path + ":1: unknown configuration key 'state.backend.typo' (did you mean"));

  Result<Configuration> missing = loadConfigurationFile(directory.file("missing.yaml"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace sluice
