#pragma once
// A PCI function's expansion ROM (config offset 0x30): the image behind
// the ROM BAR, and the file romfile= names. QEMU 7.2's pci_add_option_rom
// is the specification: the BAR's size is the file's rounded up to a power
// of two (or romsize=), the image is read-only, and default ROMs get the
// function's device ID patched in when only that differs.
//
// The file is opened at start-up and read when the guest first enables the
// ROM: with direct kernel boot no firmware runs and nothing reads it, so a
// ROM costs an open and an untouched mapping at start-up.
#include "base/unique_fd.h"
#include "devices/bus_device.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kestrel {

// The ROM a device's romfile= resolved to while the command line was read.
struct RomFile {
    std::string path;
    uint64_t file_size = 0;
    uint64_t rom_size = 0;   // power of two, >= file_size
    bool is_default = false; // the type's own ROM (patched as QEMU does)
};

class PciRomImage {
public:
    // `file_size` bytes of `path` (read by load_once) followed by zeros up
    // to `rom_size`. Throws std::runtime_error "failed to load romfile ..."
    // if it cannot be opened.
    static std::shared_ptr<PciRomImage> open_file(const std::string& path, uint64_t file_size, uint64_t rom_size);
    // For tests: `bytes` padded with zeros to `rom_size`.
    static std::shared_ptr<PciRomImage> from_bytes(const std::vector<uint8_t>& bytes, uint64_t rom_size);
    ~PciRomImage();
    PciRomImage(const PciRomImage&) = delete;
    PciRomImage& operator=(const PciRomImage&) = delete;

    uint64_t size() const { return size_; }
    // Reads the file into the image, the first time only; call it before
    // the guest can see data().
    void load_once();
    // The bytes, page aligned (a KVM slot may map them directly).
    const uint8_t* data() const { return base_; }
    // Writes `device` into the ROM's PCI data structure when the ROM is a
    // valid one for `vendor` with another device ID, keeping the checksum
    // (QEMU's pci_patch_ids). Once; later calls do nothing. Loads first.
    void patch_ids_once(uint16_t vendor, uint16_t device);

private:
    PciRomImage(uint8_t* base, uint64_t mapped, uint64_t size, uint64_t file_size)
        : base_(base), mapped_(mapped), size_(size), file_size_(file_size) {}
    uint8_t* base_;
    uint64_t mapped_;  // bytes of address space (whole pages)
    uint64_t size_;
    uint64_t file_size_;
    bool patched_ = false;
    UniqueFd file_;  // until load_once
};

// The ROM BAR's handler: reads from the image, writes ignored.
class PciRomWindow final : public BusDevice {
public:
    explicit PciRomWindow(std::shared_ptr<PciRomImage> image) : image_(std::move(image)) {}
    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t, std::span<const uint8_t>) override {}

private:
    std::shared_ptr<PciRomImage> image_;
};

// The smallest power of two >= n (n >= 1).
uint64_t rom_size_for(uint64_t n);

} // namespace kestrel
