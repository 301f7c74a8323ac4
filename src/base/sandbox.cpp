#include "base/sandbox.h"

#include "base/sandbox_policy.h"

#include <atomic>
#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>
#include <sys/prctl.h>

namespace kestrel {
namespace {

std::atomic<bool> g_active{false};
SandboxConfig g_config;

using Filter = std::unique_ptr<void, decltype(&seccomp_release)>;

[[noreturn]] void fail(const char* what, int rc) {
    throw std::runtime_error(std::string(what) + ": " + std::strerror(-rc));
}

// A filter that kills the process on any call `rules` do not allow.
Filter build(ThreadClass thread_class, bool all_threads) {
    Filter filter(seccomp_init(SCMP_ACT_KILL_PROCESS), &seccomp_release);
    if (!filter) throw std::runtime_error("failed to initialize seccomp context");
    int rc;
    if (all_threads && (rc = seccomp_attr_set(filter.get(), SCMP_FLTATR_CTL_TSYNC, 1)) != 0)
        fail("failed to set seccomp thread synchronization", rc);
    for (const sandbox::SyscallRule& r : sandbox::rules_for(thread_class, g_config)) {
        if (r.arg < 0) {
            rc = seccomp_rule_add(filter.get(), r.action, r.nr, 0);
        } else {
            scmp_arg_cmp cmp{unsigned(r.arg), r.op, r.datum_a, r.datum_b};
            rc = seccomp_rule_add_array(filter.get(), r.action, r.nr, 1, &cmp);
        }
        // -EDOM: a call this architecture does not have (QEMU's obsolete set).
        if (rc < 0 && rc != -EDOM) fail("failed to add seccomp rules", rc);
    }
    return filter;
}

void load(const Filter& filter) {
    if (int rc = seccomp_load(filter.get()); rc < 0)
        fail("failed to load seccomp syscall filter in kernel", rc);
}

} // namespace

void enter_sandbox(const SandboxConfig& config) {
    if (!config.enable) return;
    g_config = config;
    if (config.elevate_privileges == SandboxConfig::Privileges::Children &&
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        throw std::runtime_error("failed to set no_new_privs aborting");
    // Time zone data is read once, now, not by the first log line later.
    tzset();
    load(build(ThreadClass::Main, true));
    g_active = true;
}

void enter_thread_sandbox(ThreadClass thread_class) {
    if (!g_active || thread_class == ThreadClass::Main) return;
    load(build(thread_class, false));
}

bool sandbox_active() { return g_active; }

} // namespace kestrel
