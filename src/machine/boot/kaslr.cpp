#include "machine/boot/kaslr.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <sys/random.h>
#include <vector>

namespace kestrel {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::vector<std::string> words(const std::string& cmdline) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < cmdline.size()) {
        while (i < cmdline.size() && is_space(cmdline[i])) i++;
        size_t start = i;
        while (i < cmdline.size() && !is_space(cmdline[i])) i++;
        if (i > start) out.push_back(cmdline.substr(start, i - start));
    }
    return out;
}

// memparse(): a number with an optional K/M/G/T/P/E suffix.
uint64_t parse_size(const std::string& text) {
    char* end = nullptr;
    uint64_t v = std::strtoull(text.c_str(), &end, 0);
    if (end == text.c_str()) return 0;
    int shift = 0;
    switch (*end) {
    case 'E': case 'e': shift = 60; break;
    case 'P': case 'p': shift = 50; break;
    case 'T': case 't': shift = 40; break;
    case 'G': case 'g': shift = 30; break;
    case 'M': case 'm': shift = 20; break;
    case 'K': case 'k': shift = 10; break;
    default: break;
    }
    return shift && v > (UINT64_MAX >> shift) ? UINT64_MAX : v << shift;
}

struct MemOptions {
    uint64_t limit = UINT64_MAX;    // mem=
    bool unmodelled_holes = false;  // memmap=, hugepages with 1 GiB pages
};

// The options the decompressor's KASLR reads (handle_mem_options), up to "--".
MemOptions mem_options(const std::string& cmdline) {
    MemOptions m;
    for (const std::string& w : words(cmdline)) {
        if (w == "--") break;
        if (w.starts_with("mem=") && w != "mem=nopentium") {
            uint64_t v = parse_size(w.substr(4));
            if (v) m.limit = std::min(m.limit, v);
        }
        if (w.starts_with("memmap=") || w.starts_with("hugepagesz=1G") ||
            w.starts_with("hugepagesz=1g") || w.starts_with("efi_fake_mem="))
            m.unmodelled_holes = true;
    }
    return m;
}

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

struct Region {
    uint64_t start, end;
    uint64_t slots(uint64_t size, uint64_t align) const {
        uint64_t s = align_up(start, align);
        return end > s && end - s >= size ? (end - s - size) / align + 1 : 0;
    }
};

uint64_t random_phys(const KaslrRequest& r, uint64_t ram_end, const std::function<uint64_t()>& random) {
    std::vector<Region> regions;
    const uint64_t lo = r.load_phys;
    if (r.avoid_end > r.avoid_start) {
        regions.push_back({lo, std::min(r.avoid_start, ram_end)});
        regions.push_back({std::max(lo, r.avoid_end), ram_end});
    } else {
        regions.push_back({lo, ram_end});
    }
    uint64_t total = 0;
    for (const Region& g : regions) total += g.slots(r.memory_size, r.alignment);
    if (total == 0) return r.load_phys;  // no room to move: where it was linked to run
    uint64_t pick = random() % total;
    for (const Region& g : regions) {
        uint64_t n = g.slots(r.memory_size, r.alignment);
        if (pick < n) return align_up(g.start, r.alignment) + pick * r.alignment;
        pick -= n;
    }
    return r.load_phys;
}

uint64_t random_virt(const KaslrRequest& r, const std::function<uint64_t()>& random) {
    if (r.load_phys + r.memory_size > KASLR_IMAGE_SIZE) return r.load_phys;
    uint64_t slots = (KASLR_IMAGE_SIZE - r.load_phys - r.memory_size) / r.alignment + 1;
    return r.load_phys + (random() % slots) * r.alignment;
}

} // namespace

bool cmdline_has_word(const std::string& cmdline, const std::string& word) {
    auto w = words(cmdline);
    return std::find(w.begin(), w.end(), word) != w.end();
}

KaslrChoice choose_kernel_location(const KaslrRequest& r, const std::function<uint64_t()>& random) {
    KaslrChoice c{r.load_phys, r.load_phys, false};
    if (!r.kernel_has_kaslr || r.alignment == 0 || (r.alignment & (r.alignment - 1)) ||
        cmdline_has_word(r.cmdline, "nokaslr"))
        return c;
    MemOptions m = mem_options(r.cmdline);
    if (!m.unmodelled_holes) c.phys = random_phys(r, std::min(r.ram_end, m.limit), random);
    c.virt = random_virt(r, random);
    c.randomized = true;
    return c;
}

uint64_t host_random64() {
    uint64_t v = 0;
    uint8_t* p = reinterpret_cast<uint8_t*>(&v);
    size_t done = 0;
    while (done < sizeof v) {
        ssize_t n = getrandom(p + done, sizeof v - done, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error("getrandom failed");
        done += size_t(n);
    }
    return v;
}

} // namespace kestrel
