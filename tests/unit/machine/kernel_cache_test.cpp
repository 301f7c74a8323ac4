#include "machine/boot/cached_kernel.h"
#include "machine/boot/kernel_cache.h"
#include "machine/boot/linux_boot.h"
#include "machine/boot/setup_header.h"
#include "kvm/pc_memory_map.h"
#include "tests/unit/machine/bzimage_fixture.h"
#include "tests/unit/machine/vmlinux_fixture.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <set>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sstream>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace kestrel;
using namespace kestrel::test;

namespace {

// Points the cache at a fresh folder for the test's lifetime.
class CacheEnv {
public:
    CacheEnv() { setenv("KESTREL_KERNEL_CACHE", dir.path().c_str(), 1); }
    ~CacheEnv() { unsetenv("KESTREL_KERNEL_CACHE"); }
    TempDir dir;
};

bool exists(const std::string& path) {
    struct stat st {};
    return stat(path.c_str(), &st) == 0;
}

void flip_byte(const std::string& path, off_t at) {
    int fd = open(path.c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    uint8_t b = 0;
    REQUIRE(pread(fd, &b, 1, at) == 1);
    b ^= 0xff;
    REQUIRE(pwrite(fd, &b, 1, at) == 1);
    close(fd);
}

template <typename T> T at(const GuestMemory& mem, uint64_t gpa) {
    T v{};
    REQUIRE(mem.read_obj(gpa, v));
    return v;
}

FakeKernel kernel_with_payload() {
    FakeKernel k;
    k.payload = compress(Compression::Xz, make_vmlinux());
    return k;
}

LinuxBootInfo boot(const std::string& kernel, const GuestMemory& mem, const std::string& cmdline) {
    return LinuxImage::open({kernel, "", cmdline, 0}).load_linux_into(mem, 0);
}

} // namespace

TEST_CASE("store, open and read give back the kernel's image and relocations") {
    TempDir dir;
    KernelCache cache(dir.path() + "/kernels", 1 << 30);
    const auto vmlinux = make_vmlinux();
    ParsedVmlinux k = parse_vmlinux(vmlinux, LOAD_PHYS);
    CacheKey key = kernel_cache_key(vmlinux);
    std::optional<CacheEntry> entry;
    std::string why;
    CHECK(cache.open(key, entry, why) == KernelCache::Status::Miss);
    cache.store(key, k, vmlinux);
    REQUIRE(cache.open(key, entry, why) == KernelCache::Status::Hit);
    CHECK(entry->layout().image_size == k.layout.image_size);
    CHECK(entry->layout().memory_size == k.layout.memory_size);
    CHECK(entry->data_size() == DATA_OFF + DATA_NONZERO);  // the zero pages after are not stored
    std::vector<uint8_t> image(entry->layout().image_size, 0xee);
    Relocations r;
    REQUIRE(entry->read(image, true, r, why));
    CHECK(image[DATA_OFF + DATA_NONZERO] == 0xee);  // "already zero": left alone
    REQUIRE(entry->read(image, false, r, why));
    CHECK(image[DATA_OFF + DATA_NONZERO] == 0);
    CHECK(image[DATA_OFF + DATA_SIZE - 1] == 0);
    for (uint64_t i = 0; i < TEXT_SIZE; i += 97)
        if (i < R64_AT || i >= R64_AT + 8) CHECK(image[i] == image_byte(i));
    CHECK(image[TEXT_SIZE + 5] == 0);  // the gap between the segments
    CHECK(image[DATA_OFF + 0x20] == image_byte(DATA_OFF + 0x20));
    CHECK(r.r64 == k.relocations.r64);
    CHECK(r.r32 == k.relocations.r32);
    CHECK(r.r32_inverse == k.relocations.r32_inverse);
}

TEST_CASE("a damaged entry is found by its checksum or header and removed") {
    TempDir dir;
    KernelCache cache(dir.path(), 1 << 30);
    const auto vmlinux = make_vmlinux();
    ParsedVmlinux k = parse_vmlinux(vmlinux, LOAD_PHYS);
    CacheKey key = kernel_cache_key(vmlinux);
    std::optional<CacheEntry> entry;
    std::string why;

    cache.store(key, k, vmlinux);
    flip_byte(cache.entry_path(key), 4096 + 0x2345);  // in the image's text
    REQUIRE(cache.open(key, entry, why) == KernelCache::Status::Hit);
    std::vector<uint8_t> image(entry->layout().image_size);
    Relocations r;
    CHECK_FALSE(entry->read(image, false, r, why));
    CHECK(why == "checksum mismatch");

    cache.store(key, k, vmlinux);
    flip_byte(cache.entry_path(key), 60);  // in the header
    CHECK(cache.open(key, entry, why) == KernelCache::Status::Corrupt);
    CHECK(why == "header checksum mismatch");
    CHECK_FALSE(exists(cache.entry_path(key)));

    cache.store(key, k, vmlinux);
    REQUIRE(truncate(cache.entry_path(key).c_str(), 5000) == 0);
    CHECK(cache.open(key, entry, why) == KernelCache::Status::Corrupt);
    CHECK_THAT(why, Catch::Contains("expected"));
    CHECK_FALSE(exists(cache.entry_path(key)));
}

TEST_CASE("the cache stays within its size, dropping the least recently used entries") {
    TempDir dir;
    const auto vmlinux = make_vmlinux();
    ParsedVmlinux k = parse_vmlinux(vmlinux, LOAD_PHYS);
    struct stat st {};
    {
        KernelCache probe(dir.path() + "/probe", 1 << 30);
        probe.store(CacheKey{}, k, vmlinux);
        REQUIRE(stat(probe.entry_path(CacheKey{}).c_str(), &st) == 0);
    }
    KernelCache cache(dir.path(), 3 * uint64_t(st.st_size) + 100);  // room for three
    std::vector<CacheKey> keys;
    for (uint8_t i = 0; i < 5; i++) {
        CacheKey key;
        key.bytes[0] = i;
        keys.push_back(key);
        cache.store(key, k, vmlinux);
        struct timespec times[2] = {{1000 + i, 0}, {1000 + i, 0}};  // i-th used at 1000 + i
        utimensat(AT_FDCWD, cache.entry_path(key).c_str(), times, 0);
    }
    cache.trim();
    CHECK_FALSE(exists(cache.entry_path(keys[0])));
    CHECK_FALSE(exists(cache.entry_path(keys[1])));
    for (int i = 2; i < 5; i++) CHECK(exists(cache.entry_path(keys[i])));
}

TEST_CASE("one process at a time fills an entry") {
    TempDir dir;
    KernelCache cache(dir.path(), 1 << 30);
    CacheKey key;
    auto first = cache.try_lock_fill(key);
    REQUIRE(first);
    CHECK_FALSE(cache.try_lock_fill(key));
    first.reset();
    CHECK(cache.try_lock_fill(key));
}

void check_booted_from_cache_nokaslr(const LinuxBootInfo& info, const GuestMemory& mem) {
    REQUIRE(info.from_cache);
    CHECK(info.entry_rip == LOAD_PHYS);  // e_entry: startup_64 at the load address
    CHECK(at<uint8_t>(mem, LOAD_PHYS + 1) == image_byte(1));
    CHECK(at<uint64_t>(mem, LOAD_PHYS + R64_AT) == R64_VALUE);  // nokaslr: not relocated
    CHECK((at<uint8_t>(mem, pc::ZERO_PAGE_ADDR + 0x211) & 0x02) == 0);  // no KASLR_FLAG
}

TEST_CASE("the first boot decompresses the kernel on the host, fills the cache and boots from it") {
    CacheEnv env;
    FakeKernel k = kernel_with_payload();
    TempFile kernel(k.bytes());
    KernelCache cache(env.dir.path(), 1 << 30);
    const std::string entry = cache.entry_path(kernel_cache_key(k.bytes()));
    auto mem = GuestMemory::create_flat(256 * pc::MiB);

    check_booted_from_cache_nokaslr(boot(kernel.path(), mem, "console=ttyS0 nokaslr"), mem);
    CHECK(exists(entry));

    auto mem2 = GuestMemory::create_flat(256 * pc::MiB);
    check_booted_from_cache_nokaslr(boot(kernel.path(), mem2, "console=ttyS0 nokaslr"), mem2);
}

TEST_CASE("the boot that fills the cache loads the kernel from memory: the bytes the entry gives later") {
    CacheEnv env;
    FakeKernel k = kernel_with_payload();
    TempFile kernel(k.bytes());
    auto filling = GuestMemory::create_flat(256 * pc::MiB);
    auto reading = GuestMemory::create_flat(256 * pc::MiB);
    for (const GuestMemory* m : {&filling, &reading})  // not zero: the loads must write the gaps
        std::memset(m->host_ptr(LOAD_PHYS, DATA_OFF + DATA_SIZE), 0x5a, DATA_OFF + DATA_SIZE);

    auto log = std::make_shared<std::ostringstream>();
    auto previous = spdlog::default_logger();
    auto capture = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_mt>(*log));
    capture->set_level(spdlog::level::debug);
    spdlog::set_default_logger(capture);
    check_booted_from_cache_nokaslr(boot(kernel.path(), filling, "nokaslr"), filling);
    const std::string first = log->str();
    check_booted_from_cache_nokaslr(boot(kernel.path(), reading, "nokaslr"), reading);
    const std::string second = log->str().substr(first.size());
    spdlog::set_default_logger(previous);

    CHECK_THAT(first, Catch::Contains("cached as") && Catch::Contains("loaded from the payload just cached"));
    CHECK_THAT(second, Catch::Contains("bytes read and checked") && !Catch::Contains("cached as"));
    const uint64_t n = DATA_OFF + DATA_SIZE;  // the image: both segments and the gap between
    CHECK(std::memcmp(filling.host_ptr(LOAD_PHYS, n), reading.host_ptr(LOAD_PHYS, n), n) == 0);
    CHECK(at<uint8_t>(filling, LOAD_PHYS + TEXT_SIZE) == 0);
}

TEST_CASE("a kernel from the cache has its .bss faulted in on the host, beside the load") {
    CacheEnv env;
    FakeKernel k = kernel_with_payload();
    TempFile kernel(k.bytes());
    { auto mem = GuestMemory::create_flat(256 * pc::MiB); boot(kernel.path(), mem, "nokaslr"); }
    auto mem = GuestMemory::create_flat(256 * pc::MiB);
    REQUIRE(boot(kernel.path(), mem, "nokaslr").from_cache);
    mem.wait_for_populate();
    const uint64_t bss = LOAD_PHYS + DATA_OFF + DATA_SIZE, bss_end = LOAD_PHYS + DATA_OFF + DATA_MEM;
    const long page = sysconf(_SC_PAGESIZE);
    std::vector<unsigned char> in((bss_end - bss) / uint64_t(page));
    REQUIRE(mincore(mem.host_ptr(bss, bss_end - bss), bss_end - bss, in.data()) == 0);
    CHECK(std::all_of(in.begin(), in.end(), [](unsigned char v) { return v & 1; }));
    CHECK(at<uint64_t>(mem, bss_end - 8) == 0);
    CHECK(at<uint64_t>(mem, LOAD_PHYS + R64_AT) == R64_VALUE);
    // Then the 32 MiB above it that Linux's allocator hands out first; not beyond.
    std::vector<unsigned char> low(32 * pc::MiB / uint64_t(page)), high(16 * pc::MiB / uint64_t(page));
    const uint64_t low_start = (bss_end + 0x1fffff) & ~uint64_t(0x1fffff);
    REQUIRE(mincore(mem.host_ptr(low_start, 32 * pc::MiB - 0x200000), 30 * pc::MiB, low.data()) == 0);
    CHECK(std::all_of(low.begin(), low.begin() + 30 * pc::MiB / page, [](unsigned char v) { return v & 1; }));
    REQUIRE(mincore(mem.host_ptr(128 * pc::MiB, 16 * pc::MiB), 16 * pc::MiB, high.data()) == 0);
    CHECK(std::none_of(high.begin(), high.end(), [](unsigned char v) { return v & 1; }));
    // And memblock's 16 MiB at the top of RAM (no initrd here).
    REQUIRE(mincore(mem.host_ptr(240 * pc::MiB, 16 * pc::MiB), 16 * pc::MiB, high.data()) == 0);
    CHECK(std::all_of(high.begin(), high.end(), [](unsigned char v) { return v & 1; }));
}

TEST_CASE("Linux's first allocations: the lowest free RAM above 16 MiB, around the kernel and initrd") {
    using R = std::vector<std::pair<uint64_t, uint64_t>>;
    const uint64_t M = pc::MiB;
    CHECK(ram_allocated_first(512 * M, 32 * M, {{100 * M, 160 * M}, {500 * M, 512 * M}}) == R{{16 * M, 32 * M}});
    CHECK(ram_allocated_first(512 * M, 32 * M, {{500 * M, 512 * M}, {10 * M, 30 * M}}) == R{{30 * M, 32 * M}});
    CHECK(ram_allocated_first(512 * M, 32 * M, {{20 * M, 40 * M}, {44 * M, 50 * M}}) ==
          R{{16 * M, 4 * M}, {40 * M, 4 * M}, {50 * M, 24 * M}});
    CHECK(ram_allocated_first(40 * M, 32 * M, {{0, 0}, {30 * M, 36 * M}}) == R{{16 * M, 14 * M}, {36 * M, 4 * M}});
    CHECK(ram_allocated_first(16 * M, 32 * M, {}).empty());
}

TEST_CASE("memblock's first allocations: the highest free RAM below the initrd, around the kernel") {
    using R = std::vector<std::pair<uint64_t, uint64_t>>;
    const uint64_t M = pc::MiB;
    CHECK(ram_memblock_allocates_first(507 * M, 16 * M, {{100 * M, 160 * M}, {507 * M, 512 * M}}) ==
          R{{491 * M, 16 * M}});
    CHECK(ram_memblock_allocates_first(507 * M, 16 * M, {{500 * M, 504 * M}, {507 * M, 512 * M}}) ==
          R{{504 * M, 3 * M}, {487 * M, 13 * M}});
    CHECK(ram_memblock_allocates_first(24 * M, 16 * M, {{0, 0}}) == R{{16 * M, 8 * M}});
    CHECK(ram_memblock_allocates_first(16 * M, 16 * M, {}).empty());
}

TEST_CASE("while another process fills the entry, a boot decompresses in the guest") {
    CacheEnv env;
    FakeKernel k = kernel_with_payload();
    TempFile kernel(k.bytes());
    KernelCache cache(env.dir.path(), 1 << 30);
    const CacheKey key = kernel_cache_key(k.bytes());
    auto other = cache.try_lock_fill(key);
    REQUIRE(other);
    auto mem = GuestMemory::create_flat(256 * pc::MiB);
    LinuxBootInfo info = boot(kernel.path(), mem, "nokaslr");
    CHECK_FALSE(info.from_cache);
    CHECK(info.entry_rip == 0x100200);  // the bzImage's 64-bit entry
    CHECK_FALSE(exists(cache.entry_path(key)));
}

TEST_CASE("a kernel from the cache is placed and relocated at random unless nokaslr") {
    CacheEnv env;
    FakeKernel k = kernel_with_payload();
    TempFile kernel(k.bytes());
    { auto mem = GuestMemory::create_flat(256 * pc::MiB); boot(kernel.path(), mem, "quiet"); }
    std::set<uint64_t> entries, values;
    for (int i = 0; i < 6; i++) {
        auto mem = GuestMemory::create_flat(256 * pc::MiB);
        LinuxBootInfo info = boot(kernel.path(), mem, "console=ttyS0 quiet");
        REQUIRE(info.from_cache);
        CHECK(info.entry_rip % 0x200000 == 0);
        uint64_t r64 = at<uint64_t>(mem, info.entry_rip + R64_AT);
        CHECK((r64 - R64_VALUE) % 0x200000 == 0);
        CHECK(uint32_t(at<uint32_t>(mem, info.entry_rip + R32_AT) - R32_VALUE) == uint32_t(r64 - R64_VALUE));
        CHECK(at<uint8_t>(mem, pc::ZERO_PAGE_ADDR + 0x211) & 0x02);  // KASLR_FLAG
        entries.insert(info.entry_rip);
        values.insert(r64);
    }
    CHECK(entries.size() > 1);
    CHECK(values.size() > 1);

    k.kaslr_text = false;  // a kernel built without KASLR
    TempFile plain(k.bytes());
    { auto mem = GuestMemory::create_flat(256 * pc::MiB); boot(plain.path(), mem, "quiet"); }
    auto mem = GuestMemory::create_flat(256 * pc::MiB);
    LinuxBootInfo info = boot(plain.path(), mem, "quiet");
    REQUIRE(info.from_cache);
    CHECK(info.entry_rip == LOAD_PHYS);
    CHECK(at<uint64_t>(mem, LOAD_PHYS + R64_AT) == R64_VALUE);
}

TEST_CASE("a corrupted cache entry is removed, rebuilt and booted from") {
    CacheEnv env;
    FakeKernel k = kernel_with_payload();
    auto bytes = k.bytes();
    TempFile kernel(bytes);
    { auto mem = GuestMemory::create_flat(256 * pc::MiB); boot(kernel.path(), mem, "nokaslr"); }
    KernelCache cache(env.dir.path(), 1 << 30);
    std::string entry = cache.entry_path(kernel_cache_key(bytes));
    REQUIRE(exists(entry));
    flip_byte(entry, 4096 + 10);

    auto mem = GuestMemory::create_flat(256 * pc::MiB);
    check_booted_from_cache_nokaslr(boot(kernel.path(), mem, "nokaslr"), mem);
    REQUIRE(exists(entry));
    std::optional<CacheEntry> rebuilt;
    std::string why;
    REQUIRE(cache.open(kernel_cache_key(bytes), rebuilt, why) == KernelCache::Status::Hit);
    std::vector<uint8_t> image(rebuilt->layout().image_size);
    Relocations r;
    CHECK(rebuilt->read(image, false, r, why));  // the checksum holds again
}

TEST_CASE("a payload that cannot be decompressed is never cached; the guest decompresses it") {
    CacheEnv env;
    FakeKernel k = kernel_with_payload();
    k.payload[k.payload.size() / 2] ^= 0x55;
    TempFile kernel(k.bytes());
    for (int i = 0; i < 2; i++) {
        auto mem = GuestMemory::create_flat(256 * pc::MiB);
        LinuxBootInfo info = boot(kernel.path(), mem, "quiet");
        CHECK_FALSE(info.from_cache);
    }
    KernelCache cache(env.dir.path(), 1 << 30);
    CHECK_FALSE(exists(cache.entry_path(kernel_cache_key(k.bytes()))));
}

TEST_CASE("KESTREL_KERNEL_CACHE=off turns the cache off") {
    setenv("KESTREL_KERNEL_CACHE", "off", 1);
    CHECK(KernelCache::from_environment().empty());
    unsetenv("KESTREL_KERNEL_CACHE");
    setenv("XDG_CACHE_HOME", "/x/y", 1);
    auto c = KernelCache::from_environment("/nonexistent/cache/kernels");
    REQUIRE(c.size() == 1);
    CHECK(c[0].dir() == "/x/y/kestrel/kernels");
    unsetenv("XDG_CACHE_HOME");
}

namespace {

// A shared folder TMP/cache/kernels (the check covers it and its parent)
// and an empty XDG_CACHE_HOME for the test's lifetime.
struct SharedCacheEnv {
    SharedCacheEnv() {
        mkdir((dir.path() + "/cache").c_str(), 0755);
        mkdir(shared.c_str(), 0755);
        setenv("XDG_CACHE_HOME", (dir.path() + "/home").c_str(), 1);
    }
    ~SharedCacheEnv() { unsetenv("XDG_CACHE_HOME"); }
    std::vector<std::string> dirs() const {
        std::vector<std::string> out;
        for (const KernelCache& c : KernelCache::from_environment(shared)) out.push_back(c.dir());
        return out;
    }
    TempDir dir;
    std::string shared = dir.path() + "/cache/kernels";
    std::string own = dir.path() + "/home/kestrel/kernels";
};

} // namespace

TEST_CASE("a shared kernel folder is used only when nobody else can write it") {
    SharedCacheEnv env;
    using V = std::vector<std::string>;
    // Ours (root's, in a root test run) and writable: filled first.
    CHECK(env.dirs() == V{env.shared, env.own});
    chmod(env.shared.c_str(), 0775);
    CHECK(env.dirs() == V{env.own});
    chmod(env.shared.c_str(), 0757);
    CHECK(env.dirs() == V{env.own});
    chmod(env.shared.c_str(), 0755);
    chmod((env.dir.path() + "/cache").c_str(), 0777);  // its parent: the folder could be swapped
    CHECK(env.dirs() == V{env.own});
    chmod((env.dir.path() + "/cache").c_str(), 0755);
    if (geteuid() == 0) {
        REQUIRE(chown(env.shared.c_str(), 4242, 4242) == 0);  // another user's
        CHECK(env.dirs() == V{env.own});
        REQUIRE(chown(env.shared.c_str(), 0, 0) == 0);
    }
    setenv("KESTREL_KERNEL_CACHE", (env.dir.path() + "/chosen").c_str(), 1);
    CHECK(env.dirs() == V{env.dir.path() + "/chosen"});  // an explicit folder alone
    unsetenv("KESTREL_KERNEL_CACHE");
    rmdir(env.shared.c_str());
    if (geteuid() == 0) {  // root makes it, root's and 0755 whatever the umask
        mode_t old_mask = umask(0);
        CHECK(env.dirs() == V{env.shared, env.own});
        umask(old_mask);
        struct stat st {};
        REQUIRE(stat(env.shared.c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0755);
        CHECK(st.st_uid == 0);
    } else {
        CHECK(env.dirs() == V{env.own});
    }
}

TEST_CASE("a kernel in the shared folder boots when the user's own cache misses") {
    SharedCacheEnv env;
    FakeKernel k = kernel_with_payload();
    auto bytes = k.bytes();
    TempFile kernel(bytes);
    std::shared_ptr<const FileBytes> image;
    REQUIRE(FileBytes::open(kernel.path(), image) == 0);
    SetupHeader header = parse_setup_header(*image, kernel.path());
    std::optional<KernelPayload> payload = find_payload(*image, header, kernel.path());
    REQUIRE(payload);
    auto cached = [&](std::vector<std::string> dirs) {
        std::vector<KernelCache> caches;
        for (const auto& d : dirs) caches.emplace_back(d, 1 << 30);
        return CachedKernel(std::move(caches), image, header, *payload, kernel.path());
    };
    auto mem = GuestMemory::create_flat(256 * pc::MiB);
    CachedKernel filler = cached({env.shared, env.own});
    CHECK(filler.load(mem, true, "nokaslr", 0, 0));  // a miss fills, then boots from the entry
    CHECK(exists(KernelCache(env.shared, 1).entry_path(kernel_cache_key(bytes))));
    CHECK_FALSE(exists(env.own));  // a miss fills the first folder only
    CachedKernel reader = cached({env.own, env.shared});
    auto boot = reader.load(mem, false, "nokaslr", 0, 0);
    REQUIRE(boot);
    CHECK(boot->entry_rip == LOAD_PHYS);
    CHECK(at<uint8_t>(mem, LOAD_PHYS + 1) == image_byte(1));
}
