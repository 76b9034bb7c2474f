#include "runtime/task/local_channel.h"

#include <algorithm>

namespace sluice {

LocalChannel::LocalChannel(InputGate* gate, int input, size_t capacity)
    : gate_(gate), input_(input), capacity_(std::max<size_t>(capacity, 1)) {}

Status LocalChannel::push(StreamElement element) {
  std::unique_lock lock(gate_->mutex_);
  gate_->spaceAvailable_.wait(lock, [&] { return gate_->closed_ || queue_.size() < capacity_; });
  if (gate_->closed_) return Status::cancelled("downstream task is gone");
  queue_.push_back(std::move(element));
  lock.unlock();
  gate_->dataAvailable_.notify_one();
  return Status::OK();
}

LocalChannel* InputGate::addChannel(int input, size_t capacity) {
  channels_.push_back(std::make_unique<LocalChannel>(this, input, capacity));
  return channels_.back().get();
}

std::optional<InputGate::Event> InputGate::poll(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (alignedReady_) {
      Event event = std::move(*alignedReady_);
      alignedReady_.reset();
      return event;
    }
    if (!endReported_ && !channels_.empty() && endedChannels_ == static_cast<int>(channels_.size())) {
      endReported_ = true;
      return Event{Event::Kind::kEnd};
    }
    // Round-robin over channels so that one busy channel cannot starve the rest.
    for (size_t scanned = 0; scanned < channels_.size(); ++scanned) {
      size_t index = nextChannel_;
      nextChannel_ = (nextChannel_ + 1) % channels_.size();
      LocalChannel& channel = *channels_[index];
      if (channel.queue_.empty() || channel.blocked_) continue;
      StreamElement element = std::move(channel.queue_.front());
      channel.queue_.pop_front();
      spaceAvailable_.notify_all();
      if (channel.onConsumed_) channel.onConsumed_();
      if (auto* batch = std::get_if<RecordBatch>(&element)) {
        Event event{Event::Kind::kBatch};
        event.input = channel.input_;
        event.batch = std::move(*batch);
        return event;
      }
      if (auto* barrier = std::get_if<CheckpointBarrier>(&element)) {
        if (barrier->checkpointId <= lastAligned_ || barrier->checkpointId < aligning_) {
          continue;  // from an aborted checkpoint: drop it
        }
        if (barrier->checkpointId > aligning_) {  // a new alignment; an older one was aborted
          unblockAll();
          aligning_ = barrier->checkpointId;
          alignBarrier_ = *barrier;
          barriersSeen_ = 0;
          alignStart_ = std::chrono::steady_clock::now();
        }
        channel.blocked_ = true;
        ++barriersSeen_;
        if (auto aligned = completeAlignmentIfReady()) {
          aligned->channel = static_cast<int>(index);
          return aligned;
        }
        scanned = static_cast<size_t>(-1);
        continue;
      }
      if (auto* watermark = std::get_if<Watermark>(&element)) {
        channel.watermark_ = std::max(channel.watermark_, watermark->timestamp);
      } else {  // EndOfStream
        channel.ended_ = true;
        channel.watermark_ = kMaxWatermark;
        ++endedChannels_;
        if (aligning_ >= 0) alignedReady_ = completeAlignmentIfReady();
      }
      int64_t minimum = kMaxWatermark;
      for (const auto& each : channels_) minimum = std::min(minimum, each->watermark_);
      if (minimum > combinedWatermark_) {
        combinedWatermark_ = minimum;
        Event event{Event::Kind::kWatermark};
        event.timestamp = minimum;
        return event;
      }
      scanned = static_cast<size_t>(-1);  // rescan from the next channel: state changed
      if (alignedReady_) break;
      if (endedChannels_ == static_cast<int>(channels_.size())) break;
    }
    if (alignedReady_) continue;
    if (!endReported_ && !channels_.empty() && endedChannels_ == static_cast<int>(channels_.size())) continue;
    if (woken_) {
      woken_ = false;
      return std::nullopt;
    }
    if (closed_) return std::nullopt;
    if (dataAvailable_.wait_until(lock, deadline) == std::cv_status::timeout) {
      bool anyQueued = std::any_of(channels_.begin(), channels_.end(),
                                   [](const auto& channel) { return !channel->queue_.empty() && !channel->blocked_; });
      if (!anyQueued) return std::nullopt;
    }
  }
}

void InputGate::unblockAll() {
  for (auto& channel : channels_) channel->blocked_ = false;
}

std::optional<InputGate::Event> InputGate::completeAlignmentIfReady() {
  if (aligning_ < 0 || barriersSeen_ < static_cast<int>(channels_.size()) - endedChannels_) return std::nullopt;
  Event event{Event::Kind::kBarrier};
  event.barrier = alignBarrier_;
  event.alignmentMs =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - alignStart_).count();
  lastAligned_ = aligning_;
  aligning_ = -1;
  barriersSeen_ = 0;
  unblockAll();
  return event;
}

void InputGate::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  dataAvailable_.notify_all();
}

void InputGate::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  spaceAvailable_.notify_all();
  dataAvailable_.notify_all();
}

bool InputGate::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

size_t InputGate::queuedElements() const {
  std::lock_guard lock(mutex_);
  size_t total = 0;
  for (const auto& channel : channels_) total += channel->queue_.size();
  return total;
}

}  // namespace sluice
