#include "operators/split_line_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

struct ReadLine {
  std::string text;
  int64_t number;
};

/// Every line of every split, read with a tiny chunk size so lines straddle refills.
std::vector<std::vector<ReadLine>> readSplits(const std::string& path, int numSplits, size_t chunkBytes) {
  std::vector<std::vector<ReadLine>> splits(numSplits);
  for (int split = 0; split < numSplits; ++split) {
    SplitLineReader reader(path, 64, chunkBytes);
    EXPECT_OK(reader.open(split, numSplits));
    SplitLineReader::Line line;
    while (true) {
      auto more = reader.next(line);
      EXPECT_OK(more.status());
      if (!more.ok() || !*more) break;
      EXPECT_GE(line.capacity, line.text.size() + 64);
      splits[split].push_back({std::string(line.text), line.number});
    }
  }
  return splits;
}

class SplitLineReaderTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SplitLineReaderTest, EveryLineExactlyOnceForAnySplitCount) {
  testing::TempDir dir;
  const std::string path = dir.file("input.txt");
  const std::string contents = GetParam();
  testing::writeFile(path, contents);

  // The expected lines, numbered as in the file.
  std::vector<ReadLine> expected;
  size_t start = 0;
  int64_t number = 1;
  while (start < contents.size()) {
    size_t end = contents.find('\n', start);
    if (end == std::string::npos) end = contents.size();
    std::string text = contents.substr(start, end - start);
    if (!text.empty() && text.back() == '\r') text.pop_back();
    expected.push_back({text, number++});
    start = end + 1;
  }

  for (size_t chunk : {size_t{16}, size_t{1} << 20}) {
    for (int numSplits = 1; numSplits <= 7; ++numSplits) {
      std::map<int64_t, std::string> seen;
      for (const auto& split : readSplits(path, numSplits, chunk)) {
        for (const auto& line : split) {
          EXPECT_TRUE(seen.emplace(line.number, line.text).second)
              << "line " << line.number << " read twice with " << numSplits << " splits";
        }
      }
      ASSERT_EQ(seen.size(), expected.size()) << numSplits << " splits, chunk " << chunk;
      for (const auto& line : expected) EXPECT_EQ(seen[line.number], line.text) << "line " << line.number;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Files, SplitLineReaderTest,
    ::testing::Values("alpha\nbeta\ngamma\ndelta\nepsilon\nzeta\neta\ntheta\n",  // trailing newline
                      "alpha\nbeta\ngamma\ndelta\nepsilon\nzeta\neta\ntheta",    // none
                      "a\r\nbb\r\nccc\r\n\r\ndddd\r\neeeee\r\nf",                // CRLF and an empty line
                      "\n\n\nx\n\n",                                             // mostly empty lines
                      "a-line-much-longer-than-one-chunk-of-sixteen-bytes-for-sure\nshort\n"
                      "and-another-quite-long-line-with-more-than-16-bytes\nz",
                      "single line without newline", ""));

TEST(SplitLineReaderOpenTest, MissingFileNamesPathAndReason) {
  Status status = SplitLineReader::checkReadable("/nonexistent/dir/events.jsonl");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "cannot open '/nonexistent/dir/events.jsonl': No such file or directory");
  SplitLineReader reader("/nonexistent/dir/events.jsonl");
  EXPECT_EQ(reader.open(0, 1).code(), StatusCode::kNotFound);
}

TEST(SplitLineReaderOpenTest, DirectoryIsAnError) {
  testing::TempDir dir;
  EXPECT_THAT(SplitLineReader::checkReadable(dir.path().string()).message(), HasSubstr("Is a directory"));
}

TEST(SplitLineReaderOpenTest, OpenAtContinuesFromSavedOffset) {
  testing::TempDir dir;
  const std::string path = dir.file("input.txt");
  testing::writeFile(path, "one\ntwo\nthree\nfour\n");
  SplitLineReader first(path);
  ASSERT_OK(first.open(0, 1));
  SplitLineReader::Line line;
  ASSERT_OK_AND_ASSIGN(bool more, first.next(line));
  ASSERT_TRUE(more);
  ASSERT_OK_AND_ASSIGN(more, first.next(line));
  EXPECT_EQ(line.text, "two");

  SplitLineReader second(path);
  ASSERT_OK(second.openAt(0, 1, first.offset(), first.lineNumber()));
  ASSERT_OK_AND_ASSIGN(more, second.next(line));
  ASSERT_TRUE(more);
  EXPECT_EQ(line.text, "three");
  EXPECT_EQ(line.number, 3);
  EXPECT_EQ(line.offset, 8);
}

}  // namespace
}  // namespace sluice
