// A temporary directory that is removed with everything in it when it goes out of scope.
#pragma once

#include <filesystem>
#include <string>

namespace sluice::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  /// path() / name, as a string.
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// Reads a whole file into a string (empty when missing).
std::string readFile(const std::string& path);
/// Writes `contents` to `path`, creating parent directories.
void writeFile(const std::string& path, const std::string& contents);
/// The directory holding the project's test data (tests/data), from
/// SLUICE_TEST_DATA or relative to the source tree.
std::string testDataDir();
/// The directory holding the built binaries, from SLUICE_BIN_DIR.
std::string binDir();

}  // namespace sluice::testing
