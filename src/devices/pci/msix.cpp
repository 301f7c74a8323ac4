#include "devices/pci/msix.h"

#include <algorithm>
#include <stdexcept>

namespace kestrel {

namespace {
uint64_t pba_bytes(unsigned vectors) { return (uint64_t(vectors) + 63) / 64 * 8; }
} // namespace

Msix::Msix(MsixLayout layout, std::shared_ptr<MsiSink> sink)
    : layout_(layout), sink_(std::move(sink)), table_(size_t(layout.vectors) * ENTRY_SIZE),
      pba_((layout.vectors + 63) / 64) {
    uint64_t table_end = layout.table_offset + uint64_t(layout.vectors) * ENTRY_SIZE;
    uint64_t pba_end = layout.pba_offset + pba_bytes(layout.vectors);
    bool overlap = layout.table_offset < pba_end && layout.pba_offset < table_end;
    if (layout.vectors == 0 || layout.vectors > MAX_VECTORS || layout.bar >= 6 ||
        (layout.table_offset & 7) != 0 || (layout.pba_offset & 7) != 0 || overlap ||
        table_end > layout.bar_size || pba_end > layout.bar_size)
        throw std::invalid_argument("MSI-X table and PBA do not fit their BAR");
    reset_locked();
}

void Msix::reset() {
    std::lock_guard guard(lock_);
    reset_locked();
}

void Msix::reset_locked() {
    std::fill(table_.begin(), table_.end(), 0);
    for (unsigned v = 0; v < layout_.vectors; ++v) table_[v * ENTRY_SIZE + ENTRY_CONTROL] = ENTRY_MASKED;
    std::fill(pba_.begin(), pba_.end(), 0);
    enabled_ = false;
    function_masked_ = false;
}

// --- State queries ---

uint32_t Msix::entry_word_locked(unsigned vector, unsigned field) const {
    const uint8_t* p = &table_[vector * ENTRY_SIZE + field];
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

MsiMessage Msix::message_locked(unsigned vector) const {
    uint64_t address = entry_word_locked(vector, ENTRY_ADDR_LO) |
                       uint64_t(entry_word_locked(vector, ENTRY_ADDR_HI)) << 32;
    return {address, entry_word_locked(vector, ENTRY_DATA)};
}

bool Msix::deliverable_locked(unsigned vector) const {
    return enabled_ && !function_masked_ && !(entry_word_locked(vector, ENTRY_CONTROL) & ENTRY_MASKED);
}

bool Msix::pending_locked(unsigned vector) const { return (pba_[vector / 64] >> (vector % 64)) & 1; }

void Msix::set_pending_locked(unsigned vector, bool on) {
    uint64_t bit = 1ull << (vector % 64);
    pba_[vector / 64] = on ? pba_[vector / 64] | bit : pba_[vector / 64] & ~bit;
}

bool Msix::enabled() const {
    std::lock_guard guard(lock_);
    return enabled_;
}

bool Msix::function_masked() const {
    std::lock_guard guard(lock_);
    return function_masked_;
}

bool Msix::masked(unsigned vector) const {
    std::lock_guard guard(lock_);
    return vector >= layout_.vectors || (entry_word_locked(vector, ENTRY_CONTROL) & ENTRY_MASKED) != 0;
}

bool Msix::pending(unsigned vector) const {
    std::lock_guard guard(lock_);
    return vector < layout_.vectors && pending_locked(vector);
}

MsiMessage Msix::message(unsigned vector) const {
    std::lock_guard guard(lock_);
    return vector < layout_.vectors ? message_locked(vector) : MsiMessage{};
}

// --- Delivery ---

void Msix::notify(unsigned vector) {
    std::lock_guard guard(lock_);
    if (vector >= layout_.vectors) return;
    if (!deliverable_locked(vector)) {
        set_pending_locked(vector, true);
        return;
    }
    sink_->send(vector, message_locked(vector));
}

int Msix::irqfd(unsigned vector) {
    std::lock_guard guard(lock_);
    if (vector >= layout_.vectors || !deliverable_locked(vector)) return -1;
    return sink_->irqfd(vector, message_locked(vector));
}

void Msix::refresh_locked(unsigned vector, bool was_deliverable, const MsiMessage& old_message) {
    if (!deliverable_locked(vector)) return;
    MsiMessage message = message_locked(vector);
    if (!was_deliverable || message != old_message) sink_->prepare(vector, message);
    if (pending_locked(vector)) {
        set_pending_locked(vector, false);
        sink_->send(vector, message);
    }
}

void Msix::control_written(uint16_t control) {
    std::lock_guard guard(lock_);
    std::vector<bool> was(layout_.vectors);
    for (unsigned v = 0; v < layout_.vectors; ++v) was[v] = deliverable_locked(v);
    enabled_ = (control & CONTROL_ENABLE) != 0;
    function_masked_ = (control & CONTROL_FUNCTION_MASK) != 0;
    for (unsigned v = 0; v < layout_.vectors; ++v) refresh_locked(v, was[v], message_locked(v));
}

// --- Table and PBA accesses ---

void Msix::read(uint64_t offset, std::span<uint8_t> data) {
    std::lock_guard guard(lock_);
    for (size_t i = 0; i < data.size(); ++i) {
        uint64_t at = offset + i;
        uint8_t byte = 0;
        if (at >= layout_.table_offset && at - layout_.table_offset < table_.size()) {
            byte = table_[at - layout_.table_offset];
        } else if (at >= layout_.pba_offset && at - layout_.pba_offset < pba_.size() * 8) {
            uint64_t rel = at - layout_.pba_offset;
            byte = uint8_t(pba_[rel / 8] >> (8 * (rel % 8)));
        }
        data[i] = byte;
    }
}

// Only the table is writable; the PBA is read-only (§6.8.2.10).
void Msix::write(uint64_t offset, std::span<const uint8_t> data) {
    std::lock_guard guard(lock_);
    if (data.empty() || offset < layout_.table_offset) return;
    uint64_t rel = offset - layout_.table_offset;
    if (rel >= table_.size()) return;
    size_t len = std::min<size_t>(data.size(), table_.size() - rel);
    unsigned first = unsigned(rel / ENTRY_SIZE), last = unsigned((rel + len - 1) / ENTRY_SIZE);

    std::vector<std::pair<bool, MsiMessage>> before;
    for (unsigned v = first; v <= last; ++v) before.emplace_back(deliverable_locked(v), message_locked(v));
    std::copy_n(data.begin(), len, table_.begin() + ptrdiff_t(rel));
    for (unsigned v = first; v <= last; ++v) refresh_locked(v, before[v - first].first, before[v - first].second);
}

} // namespace kestrel
