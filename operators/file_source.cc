// FileSourceReader: the poll loop, error policy, watermarks and position snapshots.
#include "operators/file_source.h"

#include <charconv>
#include <sstream>

#include "operators/csv_line_parser.h"
#include "operators/json_line_parser.h"
#include "runtime/base/logging.h"

namespace sluice {
namespace {

constexpr std::string_view kPositionVersion = "file-v1";
constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

}  // namespace

FileSourceReader::FileSourceReader(std::shared_ptr<const FileSourceOptions> options, int split, int numSplits)
    : options_(std::move(options)),
      split_(split),
      numSplits_(numSplits),
      lines_(options_->path, LineParser::kPadding),
      watermarks_(options_->maxOutOfOrdernessMs) {
  if (options_->rateLimit.has_value() && *options_->rateLimit > 0) rateLimiter_.emplace(*options_->rateLimit);
}

FileSourceReader::~FileSourceReader() = default;

Status FileSourceReader::open(const OperatorContext& context) {
  (void)context;
  if (options_->format == FileFormat::kCsv) {
    parser_ = std::make_unique<CsvLineParser>(options_->kinds);
  } else {
    parser_ = std::make_unique<JsonLineParser>(options_->kinds,
                                               options_->hasNamedKinds() ? options_->discriminator : std::string());
  }
  Status status = restored_.has_value() ? lines_.openAt(split_, numSplits_, restored_->offset, restored_->lineNumber)
                                        : lines_.open(split_, numSplits_);
  if (!status.ok()) return status.withContext("source '" + options_->sourceId + "'");
  opened_ = true;
  return Status::OK();
}

bool FileSourceReader::isIgnored(std::string_view line) const {
  if (line.find_first_not_of(" \t") == std::string_view::npos) return true;  // empty or blank
  for (const auto& prefix : options_->skipPrefixes) {
    if (line.starts_with(prefix)) return true;
  }
  return false;
}

Result<bool> FileSourceReader::pollNext(Output& out) {
  if (!opened_) return Status::internal("source '" + options_->sourceId + "': pollNext before open");
  if (exhausted_) return false;
  int64_t limit = std::max<int64_t>(1, options_->batchSize);
  if (rateLimiter_.has_value()) limit = std::min(limit, rateLimiter_->maxRecordsPerPoll());
  // Bounds the work of one poll also when most lines are dropped.
  int64_t linesLeft = limit * 4;
  int64_t parsed = 0;
  SplitLineReader::Line line;
  while (parsed < limit && linesLeft-- > 0) {
    SLUICE_ASSIGN_OR_RETURN(bool more, lines_.next(line));
    if (!more) {
      exhausted_ = true;
      break;
    }
    if (line.offset == 0 && line.text.starts_with(kByteOrderMark)) {
      line.text.remove_prefix(kByteOrderMark.size());
      line.capacity -= kByteOrderMark.size();
    }
    if (isIgnored(line.text)) continue;
    Result<int> kind = parser_->parseLine(line.text, line.capacity);
    if (!kind.ok()) {
      std::string message = lines_.path() + ":" + std::to_string(line.number) + ": " + kind.status().message();
      if (options_->onError == ErrorPolicy::kFail) return Status(kind.status().code(), std::move(message));
      if (skippedLines_++ == 0) firstSkipReason_ = std::move(message);
      continue;
    }
    if (*kind == LineParser::kUnknownKind) {
      ++unknownKindLines_;
      continue;
    }
    ++parsed;
  }
  SLUICE_RETURN_NOT_OK(emitBatches(out));
  if (rateLimiter_.has_value() && parsed > 0) rateLimiter_->acquire(parsed);
  if (exhausted_) reportDropped();
  return !exhausted_;
}

Status FileSourceReader::emitBatches(Output& out) {
  const bool named = options_->hasNamedKinds();
  for (int kind = 0; kind < parser_->numKinds(); ++kind) {
    RecordBatchBuilder& builder = parser_->builder(kind);
    if (builder.numRows() == 0) continue;
    RecordBatch batch = builder.finish();
    recordsRead_ += batch.numRows();
    if (batch.eventTimeIndex() >= 0) watermarks_.observe(batch.eventTimes(), batch.numRows());
    if (named) {
      SLUICE_RETURN_NOT_OK(out.emitSide(options_->kinds[kind].name, std::move(batch)));
    } else {
      SLUICE_RETURN_NOT_OK(out.emit(std::move(batch)));
    }
  }
  if (auto watermark = watermarks_.nextWatermark()) SLUICE_RETURN_NOT_OK(out.emitWatermark(*watermark));
  return Status::OK();
}

void FileSourceReader::reportDropped() {
  if (reported_) return;
  reported_ = true;
  const std::string where = "source '" + options_->sourceId + "' split " + std::to_string(split_);
  if (skippedLines_ > 0) {
    logger("operators")
        ->warn("{}: skipped {} malformed line(s) of '{}'; the first: {}", where, skippedLines_, options_->path,
               firstSkipReason_);
  }
  if (unknownKindLines_ > 0) {
    logger("operators")
        ->info("{}: ignored {} line(s) of an undeclared kind in '{}'", where, unknownKindLines_, options_->path);
  }
}

std::string FileSourceReader::snapshotPosition() const {
  int64_t offset;
  int64_t lineNumber;
  if (opened_) {
    offset = lines_.offset();
    lineNumber = lines_.lineNumber();
  } else if (restored_.has_value()) {
    offset = restored_->offset;
    lineNumber = restored_->lineNumber;
  } else {
    return {};  // not started: a restore starts from the beginning
  }
  std::ostringstream out;
  out << kPositionVersion << ' ' << split_ << ' ' << numSplits_ << ' ' << offset << ' ' << lineNumber << ' '
      << watermarks_.maxEventTime() << ' ' << watermarks_.emittedWatermark() << ' ' << recordsRead_;
  return out.str();
}

Status FileSourceReader::restorePosition(const std::string& position) {
  if (position.empty()) return Status::OK();
  std::istringstream in(position);
  std::string version;
  int split = -1;
  int numSplits = -1;
  SavedPosition saved{};
  int64_t maxEventTime = 0;
  int64_t emittedWatermark = 0;
  int64_t recordsRead = 0;
  in >> version >> split >> numSplits >> saved.offset >> saved.lineNumber >> maxEventTime >> emittedWatermark >>
      recordsRead;
  const std::string prefix = "source '" + options_->sourceId + "': ";
  if (in.fail() || version != kPositionVersion) {
    return Status::corruption(prefix + "unreadable saved position '" + position + "'");
  }
  if (split != split_ || numSplits != numSplits_) {
    return Status::invalidArgument(prefix + "saved position is for split " + std::to_string(split) + " of " +
                                   std::to_string(numSplits) + ", this reader reads split " + std::to_string(split_) +
                                   " of " + std::to_string(numSplits_));
  }
  restored_ = saved;
  watermarks_.restore(maxEventTime, emittedWatermark);
  recordsRead_ = recordsRead;
  return Status::OK();
}

Status FileSourceReader::close() {
  if (opened_ && !exhausted_) reportDropped();
  return Status::OK();
}

}  // namespace sluice
