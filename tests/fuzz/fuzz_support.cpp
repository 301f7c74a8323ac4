#include "fuzz_support.h"

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace kestrel::fuzz {

void check_failed(const char* what, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
    std::abort();
}

void allow_writes_under(const char* dir);  // no_host_writes.cpp

namespace {

// In memory (/dev/shm) where there is one: the qcow2 target flushes its
// images several times per input, and a flush on a disk made it wait for
// the disk (30 inputs a second, most of the time idle).
std::string make_scratch_dir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : tmp && *tmp == '/' ? tmp : "/tmp";
    // The pid in the name: whoever ran a fuzzer that died (no atexit then)
    // knows what to remove (scripts/fuzz_campaign.py does).
    std::string pattern = base + "/kestrel-fuzz-scratch." + std::to_string(getpid()) + ".XXXXXX";
    if (!mkdtemp(pattern.data())) {
        std::perror("fuzz: mkdtemp");
        std::abort();
    }
    allow_writes_under(pattern.c_str());
    std::atexit([] {
        std::error_code ignored;
        std::filesystem::remove_all(scratch_dir(), ignored);
    });
    return pattern;
}

} // namespace

const std::string& scratch_dir() {
    // Never destroyed: the clean-up at exit still needs it.
    static const std::string& dir = *new std::string(make_scratch_dir());
    return dir;
}

void use_scratch_kernel_cache() { setenv("KESTREL_KERNEL_CACHE", (scratch_dir() + "/kernels").c_str(), 1); }

std::string write_scratch_file(const std::string& name, const void* bytes, size_t size) {
    std::string path = scratch_dir() + "/" + name;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const auto* p = static_cast<const uint8_t*>(bytes);
    for (size_t done = 0; fd >= 0 && done < size;) {
        ssize_t n = ::write(fd, p + done, size - done);
        if (n <= 0) check_failed(("cannot write " + path).c_str(), __FILE__, __LINE__);
        done += size_t(n);
    }
    if (fd < 0 || ::close(fd) != 0) check_failed(("cannot write " + path).c_str(), __FILE__, __LINE__);
    return path;
}

namespace {

// Guest and client errors are logged (a broken virtqueue, a bad request);
// at millions of inputs that is only noise. KESTREL_FUZZ_LOG=1 keeps them.
struct QuietLogs {
    QuietLogs() {
        const char* keep = std::getenv("KESTREL_FUZZ_LOG");
        if (!keep || !*keep || *keep == '0') spdlog::set_level(spdlog::level::off);
    }
} quiet_logs;

} // namespace
} // namespace kestrel::fuzz
