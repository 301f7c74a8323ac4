#include "machine/smbios/smbios_install.h"

#include "kvm/guest_memory.h"
#include "kvm/pc_memory_map.h"

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdexcept>
#include <string_view>

namespace kestrel {
namespace {

// SeaBIOS's type 0 when the VMM gave none.
std::vector<uint8_t> seabios_type0(const std::string& version) {
    std::vector<uint8_t> t(0x18, 0);
    t[1] = 0x18;              // handle 0
    t[4] = 1;                 // vendor
    t[5] = version.empty() ? 0 : 2;
    t[6] = 0x00, t[7] = 0xe8; // starting segment 0xe800
    t[8] = version.empty() ? 2 : 3;  // release date
    t[10] = 0x08;             // characteristics: not supported
    t[19] = 0x04;             // a virtual machine
    t[22] = t[23] = 0xff;     // no embedded controller
    for (std::string_view s : {std::string_view("SeaBIOS"), std::string_view(version), std::string_view("04/01/2014")}) {
        if (s.empty()) continue;
        t.insert(t.end(), s.begin(), s.end());
        t.push_back(0);
    }
    t.push_back(0);
    return t;
}

bool has_type0(const std::vector<uint8_t>& tables) {
    for (size_t at : smbios::structure_offsets(tables))
        if (at != size_t(-1) && tables[at] == 0) return true;
    return false;
}

template <typename T>
void put(std::vector<uint8_t>& v, size_t at, T value) {
    std::memcpy(&v[at], &value, sizeof value);
}

constexpr size_t TABLES_OFFSET = 32;  // after the entry point, 16-byte aligned

} // namespace

std::vector<uint8_t> smbios_memory_image(const SmbiosTables& in, uint64_t at, const std::string& bios_version) {
    std::vector<uint8_t> tables = in.tables, ep = in.anchor;
    unsigned count = in.count, max_size = in.max_size;
    if (!has_type0(tables)) {
        std::vector<uint8_t> t0 = seabios_type0(bios_version);
        tables.insert(tables.begin(), t0.begin(), t0.end());
        ++count;
        max_size = std::max(max_size, unsigned(t0.size()));
    }
    const uint64_t table_addr = at + TABLES_OFFSET;
    if (std::memcmp(ep.data(), "_SM3_", 5) == 0) {
        put(ep, 12, uint32_t(tables.size()));
        put(ep, 16, table_addr);
        ep[5] = 0;
        ep[5] = smbios::checksum(ep.data(), smbios::EP30_SIZE);
    } else {
        if (tables.size() > UINT16_MAX)
            throw std::runtime_error("SMBIOS tables of " + std::to_string(tables.size()) +
                                     " bytes do not fit an SMBIOS 2.1 entry point (use -machine smbios-entry-point-type=64)");
        put(ep, 8, uint16_t(max_size));
        put(ep, 22, uint16_t(tables.size()));
        put(ep, 24, uint32_t(table_addr));
        put(ep, 28, uint16_t(count));
        ep[4] = ep[21] = 0;
        ep[21] = smbios::checksum(ep.data() + 16, 15);  // the _DMI_ part
        ep[4] = smbios::checksum(ep.data(), smbios::EP21_SIZE);
    }
    ep.resize(TABLES_OFFSET, 0);  // the entry point (24 or 31 bytes), then the tables
    ep.insert(ep.end(), tables.begin(), tables.end());
    return ep;
}

uint64_t install_smbios(GuestMemory& mem, const SmbiosTables& tables, const std::string& bios_version) {
    std::vector<uint8_t> image = smbios_memory_image(tables, pc::SMBIOS_AREA_START, bios_version);
    if (image.size() > pc::BIOS_AREA_END - pc::SMBIOS_AREA_START)
        throw std::runtime_error("SMBIOS tables of " + std::to_string(image.size()) +
                                 " bytes do not fit in the 64 KiB F segment");
    if (!mem.write(pc::SMBIOS_AREA_START, image))
        throw std::runtime_error("guest RAM does not cover the SMBIOS area");
    return pc::SMBIOS_AREA_START + image.size();
}

// SeaBIOS's build puts its VERSION string right after its BUILDINFO
// ("gcc: (...) ... binutils: (...) ..."), both NUL-terminated.
std::string seabios_version_of(const std::vector<uint8_t>& image) {
    constexpr std::string_view build_info = "gcc: (";
    if (image.empty()) return {};
    const void* found = memmem(image.data(), image.size(), build_info.data(), build_info.size());
    if (!found) return {};
    auto it = image.begin() + (static_cast<const uint8_t*>(found) - image.data());
    auto start = std::find(it, image.end(), uint8_t(0));
    if (start == image.end()) return {};
    ++start;
    auto end = std::find(start, image.end(), uint8_t(0));
    constexpr long MAX_VERSION = 100;
    if (end == image.end() || end == start || end - start > MAX_VERSION) return {};
    if (!std::all_of(start, end, [](uint8_t c) { return c >= 0x20 && c < 0x7f; })) return {};
    return std::string(start, end);
}

// Reads the image backwards in windows that overlap by more than a
// BUILDINFO and VERSION together, so a string across a window boundary is
// whole in one of them. SeaBIOS keeps both near its end: two windows for
// Debian's bios-256k.bin, where reading it whole cost 256 KiB of peak RSS.
std::string seabios_version_of_file(const std::string& path) {
    constexpr off_t WINDOW = 16 * 1024, OVERLAP = 512, MAX_IMAGE = 16 << 20;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    struct stat st {};
    std::string version;
    if (fstat(fd, &st) == 0 && st.st_size <= MAX_IMAGE) {
        std::vector<uint8_t> window(WINDOW + OVERLAP);
        for (off_t end = st.st_size; end > 0 && version.empty(); end -= WINDOW) {
            const off_t start = std::max<off_t>(0, end - WINDOW);
            const off_t len = std::min<off_t>(st.st_size, end + OVERLAP) - start;
            window.resize(size_t(len));
            if (pread(fd, window.data(), size_t(len), start) != len) break;
            version = seabios_version_of(window);
        }
    }
    ::close(fd);
    return version;
}

} // namespace kestrel
