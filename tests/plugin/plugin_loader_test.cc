// Tests for PluginLoader: the example plugin loads once and registers its parts;
// every broken plugin fails with a one-line error naming the plugin.
#include "operators/plugin/plugin_loader.h"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string loadError(const std::string& name, const std::string& path) {
  auto plugin = PluginLoader::instance().load(name, path);
  if (plugin.ok()) return "<loaded>";
  EXPECT_EQ(plugin.status().message().find('\n'), std::string::npos) << "one line";
  return plugin.status().message();
}

TEST(PluginLoaderTest, LoadsTheExamplePluginOnce) {
  ASSERT_OK_AND_ASSIGN(auto plugin, PluginLoader::instance().load("example", SLUICE_EXAMPLE_PLUGIN));
  EXPECT_EQ(plugin->path(), std::filesystem::canonical(SLUICE_EXAMPLE_PLUGIN).string());
  EXPECT_THAT(plugin->operatorNames(), ElementsAre("dedup", "label"));
  EXPECT_THAT(plugin->processFunctionNames(), ElementsAre("dedup"));
  EXPECT_THAT(plugin->aggregateNames(), ElementsAre("geomean"));
  EXPECT_NE(plugin->findOperator("label"), nullptr);
  EXPECT_EQ(plugin->findOperator("dedup"), nullptr);
  EXPECT_NE(plugin->findProcessFunction("dedup"), nullptr);

  // Cached by canonical path: another spelling of the path gives the same plugin.
  std::filesystem::path path(SLUICE_EXAMPLE_PLUGIN);
  std::string other = (path.parent_path() / "." / path.filename()).string();
  ASSERT_OK_AND_ASSIGN(auto again, PluginLoader::instance().load("other-name", other));
  EXPECT_EQ(again.get(), plugin.get());

  // The aggregate is usable by window nodes.
  ASSERT_OK_AND_ASSIGN(auto geomean, window::AggregateRegistry::instance().create("geomean", DataType::kInt64));
  EXPECT_EQ(geomean->resultType(), DataType::kFloat64);
  auto wrongType = window::AggregateRegistry::instance().create("geomean", DataType::kString);
  EXPECT_THAT(wrongType.status().message(), HasSubstr("geomean(x) needs a numeric argument"));
}

TEST(PluginLoaderTest, MissingFile) {
  EXPECT_EQ(loadError("example", "/x/libx.so"),
            "plugin 'example': cannot open '/x/libx.so': No such file or directory");
}

TEST(PluginLoaderTest, WrongVersion) {
  EXPECT_EQ(loadError("old", SLUICE_WRONG_VERSION_PLUGIN),
            "plugin 'old' was built against plugin API version 2, this engine speaks version 1; rebuild it");
}

TEST(PluginLoaderTest, MissingSymbols) {
  EXPECT_THAT(loadError("half", SLUICE_NO_REGISTER_PLUGIN),
              HasSubstr("exports no sluice_plugin_register(); define it with SLUICE_PLUGIN(registrar) { ... }"));
  EXPECT_THAT(loadError("other", SLUICE_NOT_A_PLUGIN),
              HasSubstr("is not a Sluice plugin: it exports no sluice_plugin_api_version()"));
}

TEST(PluginLoaderTest, BadRegistrations) {
  EXPECT_EQ(loadError("clash", SLUICE_CLASHING_AGGREGATE_PLUGIN),
            "plugin 'clash' registers aggregate 'sum', which the engine already has; rename it");
  EXPECT_EQ(loadError("boom", SLUICE_THROWING_PLUGIN),
            "plugin 'boom': sluice_plugin_register() threw: registration exploded");
  // A failed load is not cached: it fails the same way again.
  EXPECT_EQ(loadError("boom", SLUICE_THROWING_PLUGIN),
            "plugin 'boom': sluice_plugin_register() threw: registration exploded");
}

TEST(PluginLoaderTest, NotALibrary) {
  testing::TempDir directory;
  testing::writeFile(directory.file("libfake.so"), "not an ELF file");
  EXPECT_THAT(loadError("fake", directory.file("libfake.so")),
              HasSubstr("plugin 'fake': cannot load '" + directory.file("libfake.so") + "': "));
  EXPECT_EQ(loadError("dir", directory.path().string()),
            "plugin 'dir': cannot open '" + directory.path().string() + "': not a regular file");
}

TEST(PluginLoaderTest, RefusesAChangedFileAtALoadedPath) {
  testing::TempDir directory;
  std::string copy = directory.file("libcopy.so");
  std::filesystem::copy_file(SLUICE_MINIMAL_PLUGIN, copy);
  ASSERT_OK_AND_ASSIGN(auto plugin, PluginLoader::instance().load("copy", copy));
  EXPECT_THAT(plugin->operatorNames(), ElementsAre("noop"));
  // Replace the file as a build would: a new file renamed over the old one (the
  // loaded library keeps its mapping of the old inode; writing in place would
  // change mapped code under the running process).
  testing::writeFile(copy + ".new", testing::readFile(SLUICE_MINIMAL_PLUGIN) + "trailing bytes");
  std::filesystem::rename(copy + ".new", copy);
  EXPECT_THAT(loadError("copy", copy), HasSubstr("changed since this process loaded it; restart the process"));
}

TEST(PluginLoaderTest, AnIdenticalCopyIsTheSameBuildButAnotherBuildsAggregatesClash) {
  testing::TempDir directory;
  ASSERT_OK_AND_ASSIGN(auto original, PluginLoader::instance().load("example", SLUICE_EXAMPLE_PLUGIN));
  // An uploaded plugin is stored under its content hash: the same build under another path.
  std::string copy = directory.file("0123456789abcdef0123456789abcdef.so");
  std::filesystem::copy_file(SLUICE_EXAMPLE_PLUGIN, copy);
  ASSERT_OK_AND_ASSIGN(auto same, PluginLoader::instance().load("copy", copy));
  EXPECT_EQ(same.get(), original.get());
  // Another build (different bytes) that registers the same aggregate name clashes.
  std::string other = directory.file("libexample-other.so");
  std::filesystem::copy_file(SLUICE_EXAMPLE_PLUGIN, other);
  std::ofstream(other, std::ios::app | std::ios::binary) << "another build";
  EXPECT_EQ(loadError("other", other),
            "plugin 'other' registers aggregate 'geomean', which the engine already has; rename it");
}

TEST(PluginLoaderTest, LoadsAJobsPluginsWithRelativePaths) {
  std::filesystem::path path(SLUICE_EXAMPLE_PLUGIN);
  JobSpec job;
  job.plugins.push_back(PluginRef{"example", path.filename().string(), 3});
  ASSERT_OK_AND_ASSIGN(auto plugins, loadJobPlugins(job, path.parent_path().string()));
  ASSERT_EQ(plugins.count("example"), 1u);
  EXPECT_EQ(plugins["example"]->path(), std::filesystem::canonical(path).string());

  job.plugins.push_back(PluginRef{"gone", "missing/libgone.so", 4});
  auto failed = loadJobPlugins(job, path.parent_path().string());
  EXPECT_EQ(failed.status().message(), "plugin 'gone': cannot open '" +
                                           (path.parent_path() / "missing/libgone.so").string() +
                                           "': No such file or directory");
}

}  // namespace
}  // namespace sluice
