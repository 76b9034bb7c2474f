// KeySlotTable: insertion with growth and backward-shift deletion for the
// linear-probing slot table behind StableKeyMap.
#include "operators/window/stable_key_map.h"

#include <algorithm>

#include "runtime/base/check.h"

namespace sluice::window {
namespace {

constexpr size_t kMinSlots = 16;

}  // namespace

void KeySlotTable::insert(uint64_t hash, uint32_t entry) {
  SLUICE_CHECK(entry < kNone, "entry number out of range");
  if ((size_ + 1) * 2 > slots_.size()) grow();
  place(Slot{hashBits(hash), entry + 1});
  ++size_;
}

void KeySlotTable::place(Slot slot) {
  size_t position = slot.bits & mask_;
  while (slots_[position].entry != 0) position = (position + 1) & mask_;
  slots_[position] = slot;
}

void KeySlotTable::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(std::max(kMinSlots, old.size() * 2), Slot{});
  mask_ = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.entry != 0) place(slot);
  }
}

void KeySlotTable::erase(uint64_t hash, uint32_t entry) {
  SLUICE_CHECK(!slots_.empty(), "erase from an empty slot table");
  const uint32_t bits = hashBits(hash);
  size_t hole = bits & mask_;
  while (slots_[hole].entry != entry + 1) {
    SLUICE_CHECK(slots_[hole].entry != 0, "erased entry is not in the slot table");
    hole = (hole + 1) & mask_;
  }
  // Backward shift: move each later slot of the run whose home is not in (hole, position] into the hole.
  for (size_t position = (hole + 1) & mask_; slots_[position].entry != 0; position = (position + 1) & mask_) {
    const size_t home = slots_[position].bits & mask_;
    if (((position - home) & mask_) >= ((position - hole) & mask_)) {
      slots_[hole] = slots_[position];
      hole = position;
    }
  }
  slots_[hole] = Slot{};
  --size_;
}

void KeySlotTable::clear() {
  slots_.clear();
  slots_.shrink_to_fit();
  mask_ = 0;
  size_ = 0;
}

}  // namespace sluice::window
