// PrintSink: format outside the lock, write inside it.
#include "operators/print_sink.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace sluice {
namespace {

std::mutex& outputMutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

Status PrintSink::processBatch(int input, const RecordBatch& batch, Output& out) {
  (void)input;
  (void)out;
  if (batch.numRows() == 0) return Status::OK();
  if (writer_ == nullptr || !(*writer_->schema() == *batch.schema())) {
    writer_ = std::make_unique<JsonLineWriter>(batch.schema());
  }
  buffer_.clear();
  writer_->append(batch, buffer_);
  recordsWritten_ += batch.numRows();
  std::lock_guard<std::mutex> lock(outputMutex());
  const char* data = buffer_.data();
  size_t size = buffer_.size();
  while (size > 0) {
    const ssize_t written = ::write(fd_, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      return Status::ioError(std::string("print sink: cannot write to standard output: ") + std::strerror(errno));
    }
    data += written;
    size -= static_cast<size_t>(written);
  }
  return Status::OK();
}

}  // namespace sluice
