#include "fuzz_support.h"

#include <cstdio>
#include <cstdlib>
#include <spdlog/spdlog.h>

namespace kestrel::fuzz {

void check_failed(const char* what, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
    std::abort();
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
