#include "devices/pci/pci_rom.h"

#include "base/unique_fd.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/mman.h>
#include <unistd.h>

namespace kestrel {

namespace {
uint64_t page_round(uint64_t n) {
    uint64_t page = uint64_t(sysconf(_SC_PAGESIZE));
    return (n + page - 1) / page * page;
}

uint8_t* anonymous_pages(uint64_t bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error(std::string("option ROM: ") + std::strerror(errno));
    return static_cast<uint8_t*>(p);
}

uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
} // namespace

uint64_t rom_size_for(uint64_t n) {
    uint64_t size = 1;
    while (size < n) size <<= 1;
    return size;
}

std::shared_ptr<PciRomImage> PciRomImage::open_file(const std::string& path, uint64_t file_size, uint64_t rom_size) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) throw std::runtime_error("failed to load romfile \"" + path + "\"");
    uint64_t mapped = page_round(rom_size);
    auto image = std::shared_ptr<PciRomImage>(new PciRomImage(anonymous_pages(mapped), mapped, rom_size, file_size));
    image->file_ = std::move(fd);
    return image;
}

// Read, not mapped: a mapped file truncated while kestrel runs would fault
// the guest's read of the ROM. What the file no longer holds stays zero.
void PciRomImage::load_once() {
    if (file_.get() < 0) return;
    uint64_t done = 0;
    while (done < file_size_) {
        ssize_t n = pread(file_.get(), base_ + done, file_size_ - done, off_t(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += uint64_t(n);
    }
    file_.reset();
}

std::shared_ptr<PciRomImage> PciRomImage::from_bytes(const std::vector<uint8_t>& bytes, uint64_t rom_size) {
    uint64_t mapped = page_round(rom_size);
    uint8_t* base = anonymous_pages(mapped);
    std::memcpy(base, bytes.data(), std::min<uint64_t>(bytes.size(), rom_size));
    return std::shared_ptr<PciRomImage>(new PciRomImage(base, mapped, rom_size, std::min<uint64_t>(bytes.size(), rom_size)));
}

PciRomImage::~PciRomImage() { munmap(base_, mapped_); }

// The PCI Firmware Specification's layout: 0x55 0xaa, the offset of the
// "PCIR" structure at 0x18, vendor and device IDs at PCIR+4 and +6. The
// byte at 6 (unused by the PC's header) absorbs the checksum change, as
// QEMU's patch does.
void PciRomImage::patch_ids_once(uint16_t vendor, uint16_t device) {
    load_once();
    if (patched_) return;
    patched_ = true;
    uint8_t* p = base_;
    if (file_size_ < 0x1c || p[0] != 0x55 || p[1] != 0xaa) return;
    uint16_t pcir = le16(p + 0x18);
    if (uint64_t(pcir) + 8 >= file_size_ || std::memcmp(p + pcir, "PCIR", 4) != 0) return;
    uint16_t rom_vendor = le16(p + pcir + 4), rom_device = le16(p + pcir + 6);
    if (rom_vendor != vendor || rom_device == device) return;
    uint8_t checksum = p[6];
    checksum = uint8_t(checksum + uint8_t(rom_device) + uint8_t(rom_device >> 8));
    checksum = uint8_t(checksum - uint8_t(device) - uint8_t(device >> 8));
    p[pcir + 6] = uint8_t(device);
    p[pcir + 7] = uint8_t(device >> 8);
    p[6] = checksum;
}

void PciRomWindow::read(uint64_t offset, std::span<uint8_t> data) {
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = offset + i < image_->size() ? image_->data()[offset + i] : 0xff;
}

} // namespace kestrel
