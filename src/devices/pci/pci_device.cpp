#include "devices/pci/pci_device.h"

#include <algorithm>
#include <stdexcept>

namespace kestrel {

namespace {
bool overlaps(uint16_t a, unsigned alen, uint16_t b, unsigned blen) {
    return a < b + blen && b < a + alen;
}
} // namespace

PciDevice::PciDevice(uint16_t config_size)
    : config_(config_size == pci::EXPRESS_CONFIG_SPACE_SIZE ? config_size : pci::CONFIG_SPACE_SIZE),
      write_mask_(config_.size()), w1c_mask_(config_.size()) {
    init_default_masks();
}

PciDevice::~PciDevice() = default;

// The header fields software may change; everything past the header is
// device-specific and writable unless a device says otherwise.
void PciDevice::init_default_masks() {
    set_write_mask(pci::COMMAND, 2,
                   pci::COMMAND_IO | pci::COMMAND_MEMORY | pci::COMMAND_MASTER |
                       pci::COMMAND_INTX_DISABLE);
    set_w1c_mask(pci::STATUS, 2, pci::STATUS_W1C_BITS);
    set_write_mask(pci::CACHE_LINE_SIZE, 1, 0xff);
    set_write_mask(pci::INTERRUPT_LINE, 1, 0xff);
    std::fill(write_mask_.begin() + pci::CONFIG_HEADER_SIZE, write_mask_.end(), 0xff);
}

uint32_t PciDevice::config_read(uint16_t offset, unsigned len) {
    std::lock_guard guard(config_lock_);
    len = std::min(len, 4u);
    config_will_read(offset, len);
    uint32_t value = 0;
    for (unsigned i = 0; i < len; ++i) {
        size_t at = size_t(offset) + i;
        uint8_t byte = at < config_.size() ? config_[at] : 0xff;
        if (at == pci::STATUS) {
            byte = uint8_t(byte & ~pci::STATUS_INTERRUPT) | (irq_level() ? pci::STATUS_INTERRUPT : 0);
        }
        value |= uint32_t(byte) << (8 * i);
    }
    return value;
}

void PciDevice::config_write(uint16_t offset, unsigned len, uint32_t value) {
    std::lock_guard guard(config_lock_);
    if (power_on_.empty()) capture_power_on_locked();
    len = std::min(len, 4u);
    for (unsigned i = 0; i < len; ++i) {
        size_t at = size_t(offset) + i;
        if (at >= config_.size()) break;
        uint8_t byte = uint8_t(value >> (8 * i));
        config_[at] = uint8_t((config_[at] & ~write_mask_[at]) | (byte & write_mask_[at]));
        config_[at] &= uint8_t(~(byte & w1c_mask_[at]));
    }
    bool command = overlaps(offset, len, pci::COMMAND, 2);
    if (command) apply_command_locked();
    if (command || overlaps(offset, len, pci::BAR0, 4 * pci::BAR_COUNT)) place_bars_locked();
    if (command || overlaps(offset, len, pci::ROM_ADDRESS, 4)) place_rom_locked();
    config_written(offset, len);
}

void PciDevice::reset() {
    std::lock_guard guard(config_lock_);
    if (!power_on_.empty()) config_ = power_on_;
    {
        std::lock_guard intx(intx_lock_);
        intx_level_ = false;
    }
    apply_command_locked();
    place_bars_locked();
    place_rom_locked();
}

void PciDevice::attach(PciAttachment attachment) {
    std::lock_guard guard(config_lock_);
    attachment_ = std::move(attachment);
    attached_ = true;
    if (power_on_.empty()) capture_power_on_locked();
    place_bars_locked();
    place_rom_locked();
    std::lock_guard intx(intx_lock_);
    deliver_intx_locked();
}

void PciDevice::detach() {
    std::lock_guard guard(config_lock_);
    for (unsigned i = 0; i < pci::BAR_COUNT; ++i) {
        auto& bar = bars_[i];
        if (!bar) continue;
        auto old = bar->mapped_at();
        if (bar->move_to(std::nullopt, bus_for(bar->spec().kind))) bar_moved(i, old, std::nullopt);
    }
    if (rom_ && rom_->mapping.move_to(std::nullopt, attachment_.mmio) && rom_->moved) rom_->moved(std::nullopt);
    {
        std::lock_guard intx(intx_lock_);
        intx_level_ = false;
        deliver_intx_locked();
    }
    attachment_ = {};
    attached_ = false;
}

bool PciDevice::attached() const {
    std::lock_guard guard(config_lock_);
    return attached_;
}

unsigned PciDevice::slot() const {
    std::lock_guard guard(config_lock_);
    return attachment_.slot;
}

unsigned PciDevice::function() const {
    std::lock_guard guard(config_lock_);
    return attachment_.function;
}

void PciDevice::capture_power_on_locked() { power_on_ = config_; }

// --- INTx ---

void PciDevice::set_irq_level(bool asserted) {
    std::lock_guard intx(intx_lock_);
    intx_level_ = asserted;
    deliver_intx_locked();
}

bool PciDevice::irq_level() const {
    std::lock_guard intx(intx_lock_);
    return intx_level_;
}

void PciDevice::apply_command_locked() {
    std::lock_guard intx(intx_lock_);
    intx_disabled_ = (cfg16(pci::COMMAND) & pci::COMMAND_INTX_DISABLE) != 0;
    deliver_intx_locked();
}

void PciDevice::deliver_intx_locked() {
    bool out = intx_level_ && !intx_disabled_;
    if (out == intx_delivered_ || intx_pin_ == pci::PIN_NONE || !attachment_.set_intx) return;
    intx_delivered_ = out;
    attachment_.set_intx(intx_pin_, out);
}

// --- BARs ---

void PciDevice::add_bar(unsigned index, uint64_t size, BarKind kind, bool prefetchable,
                        std::shared_ptr<BusDevice> handler, std::string name) {
    std::lock_guard guard(config_lock_);
    bool wide = kind == BarKind::Mem64;
    uint64_t min_size = kind == BarKind::Io ? 4 : 16;
    if (index >= pci::BAR_COUNT || (wide && index + 1 >= pci::BAR_COUNT))
        throw std::invalid_argument("PCI BAR index out of range");
    if (size < min_size || (size & (size - 1)) != 0 || (kind != BarKind::Mem64 && size > (1ull << 31)))
        throw std::invalid_argument("PCI BAR size must be a power of two within the BAR's range");
    if (bars_[index] || (index > 0 && bars_[index - 1] && bars_[index - 1]->spec().kind == BarKind::Mem64) ||
        (wide && bars_[index + 1]))
        throw std::invalid_argument("PCI BAR index already in use");

    BarSpec spec{size, kind, prefetchable && kind != BarKind::Io, std::move(handler), std::move(name)};
    uint16_t reg = uint16_t(pci::BAR0 + 4 * index);
    uint64_t mask = bar_address_mask(spec);
    set_cfg32(reg, bar_flag_bits(spec));
    set_write_mask(reg, 4, uint32_t(mask));
    if (wide) {
        set_cfg32(reg + 4, 0);
        set_write_mask(reg + 4, 4, uint32_t(mask >> 32));
    }
    bars_[index].emplace(std::move(spec));
}

uint64_t PciDevice::bar_raw_locked(unsigned index) const {
    uint16_t reg = uint16_t(pci::BAR0 + 4 * index);
    uint64_t raw = cfg32(reg);
    if (bars_[index]->spec().kind == BarKind::Mem64) raw |= uint64_t(cfg32(reg + 4)) << 32;
    return raw;
}

Bus* PciDevice::bus_for(BarKind kind) const {
    return kind == BarKind::Io ? attachment_.pio : attachment_.mmio;
}

void PciDevice::place_bars_locked() {
    uint16_t command = cfg16(pci::COMMAND);
    for (unsigned i = 0; i < pci::BAR_COUNT; ++i) {
        auto& bar = bars_[i];
        if (!bar) continue;
        auto target = bar_decoded_address(bar->spec(), bar_raw_locked(i), command);
        auto old = bar->mapped_at();
        if (bar->move_to(target, bus_for(bar->spec().kind))) bar_moved(i, old, bar->mapped_at());
    }
}

void PciDevice::retry_pending_bars() {
    std::lock_guard guard(config_lock_);
    for (unsigned i = 0; i < pci::BAR_COUNT; ++i) {
        auto& bar = bars_[i];
        if (!bar || !bar->pending()) continue;
        auto old = bar->mapped_at();
        if (bar->move_to(bar->desired(), bus_for(bar->spec().kind))) bar_moved(i, old, bar->mapped_at());
    }
    if (rom_ && rom_->mapping.pending() && rom_->mapping.move_to(rom_->mapping.desired(), attachment_.mmio) &&
        rom_->moved)
        rom_->moved(rom_->mapping.mapped_at());
}

// --- Expansion ROM ---

void PciDevice::add_rom(std::shared_ptr<PciRomImage> image, std::string name, bool patch_ids,
                        std::function<void(std::optional<uint64_t>)> moved) {
    std::lock_guard guard(config_lock_);
    if (rom_) throw std::invalid_argument("PCI function already has an expansion ROM");
    uint64_t size = image->size();
    if (size == 0 || (size & (size - 1)) != 0 || size > (1ull << 31))
        throw std::invalid_argument("PCI ROM size must be a power of two up to 2 GiB");
    set_cfg32(pci::ROM_ADDRESS, 0);
    set_write_mask(pci::ROM_ADDRESS, 4, uint32_t(~(size - 1)) | pci::ROM_ADDRESS_ENABLE);
    auto window = std::make_shared<PciRomWindow>(image);
    rom_.emplace(Rom{BarMapping(BarSpec{size, BarKind::Mem32, false, std::move(window), std::move(name)}),
                     std::move(image), patch_ids, std::move(moved)});
}

// QEMU's pci_bar_address for PCI_ROM_SLOT: memory space on, the enable
// bit set, and an address that is neither 0 nor reaching the top of 4 GiB.
void PciDevice::place_rom_locked() {
    if (!rom_) return;
    uint32_t raw = cfg32(pci::ROM_ADDRESS);
    uint64_t size = rom_->image->size();
    std::optional<uint64_t> target;
    uint64_t base = raw & ~(size - 1) & ~uint64_t(pci::ROM_ADDRESS_ENABLE);
    if ((cfg16(pci::COMMAND) & pci::COMMAND_MEMORY) && (raw & pci::ROM_ADDRESS_ENABLE) && base != 0 &&
        base + size - 1 < 0xffffffffu)
        target = base;
    if (target) rom_->image->load_once();
    if (target && rom_->patch_ids) rom_->image->patch_ids_once(cfg16(pci::VENDOR_ID), cfg16(pci::DEVICE_ID));
    if (rom_->mapping.move_to(target, attachment_.mmio) && rom_->moved) rom_->moved(rom_->mapping.mapped_at());
}

std::optional<uint64_t> PciDevice::rom_address() const {
    std::lock_guard guard(config_lock_);
    return rom_ ? rom_->mapping.mapped_at() : std::nullopt;
}

uint64_t PciDevice::rom_size() const {
    std::lock_guard guard(config_lock_);
    return rom_ ? rom_->image->size() : 0;
}

std::optional<uint64_t> PciDevice::bar_address(unsigned index) const {
    std::lock_guard guard(config_lock_);
    if (index >= pci::BAR_COUNT || !bars_[index]) return std::nullopt;
    return bars_[index]->mapped_at();
}

std::optional<BarSpec> PciDevice::bar_spec(unsigned index) const {
    std::lock_guard guard(config_lock_);
    if (index >= pci::BAR_COUNT || !bars_[index]) return std::nullopt;
    return bars_[index]->spec();
}

// --- Description helpers ---

void PciDevice::set_ids(const PciIds& ids) {
    std::lock_guard guard(config_lock_);
    set_cfg16(pci::VENDOR_ID, ids.vendor);
    set_cfg16(pci::DEVICE_ID, ids.device);
    set_cfg8(pci::REVISION_ID, ids.revision);
    set_cfg8(pci::CLASS_PROG, uint8_t(ids.class_code));
    set_cfg16(pci::CLASS_PROG + 1, uint16_t(ids.class_code >> 8));
    set_cfg16(pci::SUBSYSTEM_VENDOR_ID, ids.subsystem_vendor);
    set_cfg16(pci::SUBSYSTEM_ID, ids.subsystem);
}

void PciDevice::set_header_type(uint8_t type) {
    std::lock_guard guard(config_lock_);
    set_cfg8(pci::HEADER_TYPE, type);
}

void PciDevice::set_interrupt_pin(uint8_t pin) {
    std::lock_guard guard(config_lock_);
    set_cfg8(pci::INTERRUPT_PIN, pin);
    std::lock_guard intx(intx_lock_);
    intx_pin_ = pin <= pci::PIN_INTD ? pin : pci::PIN_NONE;
}

uint16_t PciDevice::add_capability(uint8_t id, uint8_t length, std::optional<uint16_t> at) {
    std::lock_guard guard(config_lock_);
    uint16_t offset = at ? *at : uint16_t((next_cap_ + 3) & ~3u);
    // Standard capabilities live in the first 256 bytes (8-bit pointers).
    if (length < 2 || offset < pci::CONFIG_HEADER_SIZE || (offset & 3) != 0 ||
        offset + length > pci::CONFIG_SPACE_SIZE)
        throw std::length_error("PCI capability does not fit in config space");
    for (auto [other, other_len] : caps_) {
        if (overlaps(offset, length, other, other_len))
            throw std::length_error("PCI capability overlaps another one");
    }
    caps_.emplace_back(offset, length);
    set_cfg8(offset, id);
    set_cfg8(offset + 1, 0);
    std::fill_n(write_mask_.begin() + offset, length, 0);
    std::fill_n(w1c_mask_.begin() + offset, length, 0);
    if (last_cap_ == 0) {
        set_cfg8(pci::CAPABILITY_LIST, uint8_t(offset));
    } else {
        set_cfg8(last_cap_ + 1, uint8_t(offset));
    }
    set_cfg16(pci::STATUS, cfg16(pci::STATUS) | pci::STATUS_CAP_LIST);
    last_cap_ = offset;
    next_cap_ = std::max<uint16_t>(next_cap_, uint16_t(offset + length));
    return offset;
}

// --- Raw accessors ---

uint8_t PciDevice::cfg8(uint16_t offset) const { return offset < config_.size() ? config_[offset] : 0; }
uint16_t PciDevice::cfg16(uint16_t offset) const {
    return uint16_t(cfg8(offset) | cfg8(offset + 1) << 8);
}
uint32_t PciDevice::cfg32(uint16_t offset) const {
    return uint32_t(cfg16(offset)) | uint32_t(cfg16(offset + 2)) << 16;
}
void PciDevice::set_cfg8(uint16_t offset, uint8_t value) {
    if (offset < config_.size()) config_[offset] = value;
}
void PciDevice::set_cfg16(uint16_t offset, uint16_t value) {
    set_cfg8(offset, uint8_t(value));
    set_cfg8(offset + 1, uint8_t(value >> 8));
}
void PciDevice::set_cfg32(uint16_t offset, uint32_t value) {
    set_cfg16(offset, uint16_t(value));
    set_cfg16(offset + 2, uint16_t(value >> 16));
}

void PciDevice::set_write_mask(uint16_t offset, unsigned len, uint32_t mask) {
    for (unsigned i = 0; i < len && i < 4 && size_t(offset) + i < write_mask_.size(); ++i)
        write_mask_[offset + i] = uint8_t(mask >> (8 * i));
}

void PciDevice::set_w1c_mask(uint16_t offset, unsigned len, uint32_t mask) {
    for (unsigned i = 0; i < len && i < 4 && size_t(offset) + i < w1c_mask_.size(); ++i) {
        w1c_mask_[offset + i] = uint8_t(mask >> (8 * i));
        write_mask_[offset + i] &= uint8_t(~w1c_mask_[offset + i]);
    }
}

} // namespace kestrel
