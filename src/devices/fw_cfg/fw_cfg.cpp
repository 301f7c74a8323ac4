#include "devices/fw_cfg/fw_cfg.h"

#include "kvm/guest_memory.h"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <stdexcept>
#include <utility>

namespace kestrel {
namespace {

using namespace fwcfg;

template <typename T> std::vector<uint8_t> le_bytes(T value) {
    std::vector<uint8_t> out(sizeof value);
    for (size_t i = 0; i < sizeof value; ++i) out[i] = uint8_t(uint64_t(value) >> (8 * i));
    return out;
}

void put_be(std::vector<uint8_t>& out, uint64_t value, unsigned bytes) {
    for (unsigned i = bytes; i-- > 0;) out.push_back(uint8_t(value >> (8 * i)));
}

uint64_t get_be(const uint8_t* p, unsigned bytes) {
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; ++i) v = v << 8 | p[i];
    return v;
}

bool is_arch(uint16_t key) { return key & ARCH_LOCAL; }

} // namespace

FwCfgItem FwCfgItem::share(std::shared_ptr<const void> owner, std::span<const uint8_t> bytes) {
    FwCfgItem item;
    item.owner = owner ? std::move(owner) : std::make_shared<const int>(0);
    item.shared = bytes;
    return item;
}

FwCfg::FwCfg(const GuestMemory& memory, uint16_t file_slots, bool dma_enabled)
    : memory_(memory), file_slots_(file_slots), dma_enabled_(dma_enabled) {
    items_[0].resize(FILE_FIRST);
    items_[1].resize(FILE_FIRST);
    set_bytes(SIGNATURE, {'Q', 'E', 'M', 'U'});
    set_u32(ID, dma_enabled ? 3 : 1);
    std::lock_guard guard(lock_);
    rebuild_directory_locked();
    select_locked(SIGNATURE);
}

const FwCfgItem* FwCfg::item_locked(uint16_t key) const {
    unsigned index = key & ENTRY_MASK;
    if (index < FILE_FIRST) {
        const auto& slot = items_[is_arch(key)][index];
        return slot ? &*slot : nullptr;
    }
    if (is_arch(key) || index - FILE_FIRST >= files_.size()) return nullptr;
    return &files_[index - FILE_FIRST].item;
}

FwCfgItem* FwCfg::item_locked(uint16_t key) {
    return const_cast<FwCfgItem*>(std::as_const(*this).item_locked(key));
}

bool FwCfg::zero_guest(uint64_t address, uint32_t length) const {
    uint8_t* host = memory_.host_ptr(address, length);
    if (!host) return false;
    std::memset(host, 0, length);
    return true;
}

void FwCfg::set(uint16_t key, FwCfgItem item) {
    if ((key & ENTRY_MASK) >= FILE_FIRST || (key & WRITE_CHANNEL))
        throw std::out_of_range(fmt::format("fw_cfg key {:#x} is not an item key", key));
    std::lock_guard guard(lock_);
    items_[is_arch(key)][key & ENTRY_MASK] = std::move(item);
}

void FwCfg::set_bytes(uint16_t key, std::vector<uint8_t> data) { set(key, FwCfgItem{std::move(data)}); }
void FwCfg::set_u16(uint16_t key, uint16_t value) { set_bytes(key, le_bytes(value)); }
void FwCfg::set_u32(uint16_t key, uint32_t value) { set_bytes(key, le_bytes(value)); }
void FwCfg::set_u64(uint16_t key, uint64_t value) { set_bytes(key, le_bytes(value)); }

void FwCfg::set_string(uint16_t key, std::string_view text) {
    std::vector<uint8_t> data(text.begin(), text.end());
    data.push_back(0);
    set_bytes(key, std::move(data));
}

void FwCfg::remove(uint16_t key) {
    if ((key & ENTRY_MASK) >= FILE_FIRST) return;
    std::lock_guard guard(lock_);
    items_[is_arch(key)][key & ENTRY_MASK].reset();
}

uint16_t FwCfg::insert_file_locked(std::string_view name, FwCfgItem item) {
    if (name.size() >= MAX_FILE_PATH)
        throw std::runtime_error(fmt::format("fw_cfg file name too long (max. {} char): {}", MAX_FILE_PATH - 1, name));
    auto at = std::lower_bound(files_.begin(), files_.end(), name,
                               [](const File& f, std::string_view n) { return f.name < n; });
    if (at != files_.end() && at->name == name)
        throw std::runtime_error("duplicate fw_cfg file name: " + std::string(name));
    if (files_.size() >= file_slots_)
        throw std::runtime_error(
            fmt::format("fw_cfg: no slot left for file {} (x-file-slots is {})", name, file_slots_));
    at = files_.insert(at, File{std::string(name), std::move(item)});
    rebuild_directory_locked();
    return uint16_t(FILE_FIRST + (at - files_.begin()));
}

uint16_t FwCfg::add_file(std::string_view name, FwCfgItem item) {
    std::lock_guard guard(lock_);
    return insert_file_locked(name, std::move(item));
}

uint16_t FwCfg::add_file(std::string_view name, std::vector<uint8_t> data) {
    return add_file(name, FwCfgItem{std::move(data)});
}

uint16_t FwCfg::set_file(std::string_view name, FwCfgItem item) {
    std::lock_guard guard(lock_);
    for (size_t i = 0; i < files_.size(); ++i) {
        if (files_[i].name != name) continue;
        files_[i].item = std::move(item);
        rebuild_directory_locked();
        return uint16_t(FILE_FIRST + i);
    }
    return insert_file_locked(name, std::move(item));
}

std::optional<uint16_t> FwCfg::file_key(std::string_view name) const {
    std::lock_guard guard(lock_);
    for (size_t i = 0; i < files_.size(); ++i)
        if (files_[i].name == name) return uint16_t(FILE_FIRST + i);
    return std::nullopt;
}

std::vector<std::string> FwCfg::file_names() const {
    std::lock_guard guard(lock_);
    std::vector<std::string> names;
    for (const File& f : files_) names.push_back(f.name);
    return names;
}

std::vector<uint8_t> FwCfg::item_data(uint16_t key) const {
    std::lock_guard guard(lock_);
    const FwCfgItem* item = item_locked(key);
    if (!item) return {};
    std::span<const uint8_t> bytes = item->bytes();
    return {bytes.begin(), bytes.end()};
}

// be32 count, then per file: be32 size, be16 key, be16 reserved, name[56].
void FwCfg::rebuild_directory_locked() {
    std::vector<uint8_t> dir;
    put_be(dir, files_.size(), 4);
    for (size_t i = 0; i < files_.size(); ++i) {
        put_be(dir, files_[i].item.bytes().size(), 4);
        put_be(dir, FILE_FIRST + i, 2);
        put_be(dir, 0, 2);
        size_t name_at = dir.size();
        dir.resize(name_at + MAX_FILE_PATH, 0);
        std::memcpy(dir.data() + name_at, files_[i].name.data(), files_[i].name.size());
    }
    items_[0][FILE_DIR] = FwCfgItem{std::move(dir)};
}

// --- The guest's side ---

void FwCfg::select_locked(uint16_t key) {
    regs_.offset = 0;
    if ((key & ENTRY_MASK) >= FILE_FIRST + file_slots_) {
        regs_.selector = FwCfgRegisters::kInvalid;
        return;
    }
    regs_.selector = key;
    FwCfgItem* item = item_locked(key);
    if (item && item->on_select) {
        item->on_select(item->data);
        if ((key & ENTRY_MASK) >= FILE_FIRST) rebuild_directory_locked();  // its size may have changed
    }
}

void FwCfg::select(uint16_t key) {
    std::lock_guard guard(lock_);
    select_locked(key);
}

uint64_t FwCfg::read_data(unsigned size) {
    std::lock_guard guard(lock_);
    const FwCfgItem* item = regs_.selector == FwCfgRegisters::kInvalid ? nullptr : item_locked(regs_.selector);
    uint64_t value = 0;
    for (unsigned i = 0; i < size && i < 8; ++i) {
        uint8_t byte = 0;
        if (item && regs_.offset < item->bytes().size()) byte = item->bytes()[regs_.offset++];
        value = value << 8 | byte;
    }
    return value;
}

void FwCfg::write_dma_high(uint32_t high) {
    std::lock_guard guard(lock_);
    regs_.dma_address = uint64_t(high) << 32;
}

void FwCfg::write_dma_low(uint32_t low) {
    std::lock_guard guard(lock_);
    uint64_t address = regs_.dma_address | low;
    regs_.dma_address = 0;
    if (dma_enabled_) run_dma_locked(address);
}

// The access descriptor {be32 control, be32 length, be64 address} at
// `address`; the control word goes back 0 or with ERROR set.
void FwCfg::run_dma_locked(uint64_t address) {
    uint8_t desc[16];
    if (!memory_.read(address, desc)) {
        uint8_t error[4] = {0, 0, 0, DMA_CTL_ERROR};
        memory_.write(address, error);
        return;
    }
    uint32_t control = uint32_t(get_be(desc, 4));
    uint32_t result = transfer_locked(control, uint32_t(get_be(desc + 4, 4)), get_be(desc + 8, 8));
    uint8_t out[4] = {uint8_t(result >> 24), uint8_t(result >> 16), uint8_t(result >> 8), uint8_t(result)};
    memory_.write(address, out);
}

uint32_t FwCfg::transfer_locked(uint32_t control, uint32_t length, uint64_t address) {
    if (control & DMA_CTL_SELECT) select_locked(uint16_t(control >> 16));
    bool read = control & DMA_CTL_READ;
    bool write = !read && (control & DMA_CTL_WRITE);
    if (!read && !write && !(control & DMA_CTL_SKIP)) length = 0;
    FwCfgItem* item = regs_.selector == FwCfgRegisters::kInvalid ? nullptr : item_locked(regs_.selector);
    uint32_t result = 0;
    while (length > 0 && !(result & DMA_CTL_ERROR)) {
        uint32_t len = length;
        if (!item || regs_.offset >= item->bytes().size()) {
            // Past the end: reads give zeros, writes fail, skips do nothing.
            if (read && !zero_guest(address, len)) result |= DMA_CTL_ERROR;
            if (write) result |= DMA_CTL_ERROR;
        } else {
            len = uint32_t(std::min<uint64_t>(length, item->bytes().size() - regs_.offset));
            if (read && !memory_.write(address, item->bytes().subspan(regs_.offset, len))) result |= DMA_CTL_ERROR;
            if (write) {
                bool can_write = item->writable && !item->owner && len == length;
                if (!can_write || !memory_.read(address, std::span(item->data).subspan(regs_.offset, len)))
                    result |= DMA_CTL_ERROR;
                else if (item->on_write)
                    item->on_write(item->data, regs_.offset, len);
            }
            regs_.offset += len;
        }
        address += len;
        length -= len;
    }
    return result;
}

FwCfgRegisters FwCfg::registers() const {
    std::lock_guard guard(lock_);
    return regs_;
}

void FwCfg::reset() {
    std::lock_guard guard(lock_);
    regs_ = FwCfgRegisters{};
    select_locked(SIGNATURE);
}

} // namespace kestrel
