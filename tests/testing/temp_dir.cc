#include "tests/testing/temp_dir.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

namespace sluice::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "sluice-test-XXXXXX").string();
  char* made = mkdtemp(pattern.data());
  if (made == nullptr) std::abort();
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void writeFile(const std::string& path, const std::string& contents) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << contents;
}

std::string testDataDir() {
  if (const char* dir = std::getenv("SLUICE_TEST_DATA")) return dir;
  return SLUICE_SOURCE_DIR "/tests/data";
}

std::string binDir() {
  if (const char* dir = std::getenv("SLUICE_BIN_DIR")) return dir;
  return SLUICE_BINARY_DIR "/bin";
}

}  // namespace sluice::testing
