#include "runtime/transport/encoded_message.h"

#include <cstdlib>

namespace sluice::transport {

Buffer EncodedMessage::toBuffer() && {
  const uint8_t* bytes = storage_.get();
  size_t size = size_;
  size_ = 0;
  std::shared_ptr<uint8_t> owner(storage_.release(), FreeDeleter());
  return Buffer(std::move(owner), bytes, size);
}

uint8_t* EncodedMessage::release() {
  size_ = 0;
  return storage_.release();
}

void EncodedMessage::freeStorage(void* data, void* /*hint*/) { std::free(data); }

}  // namespace sluice::transport
