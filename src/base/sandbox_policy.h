#pragma once
// Internal to sandbox.cpp: which system calls each thread class may make
// (sandbox_policy.cpp) and how.
#include "base/sandbox.h"

#include <cstdint>
#include <seccomp.h>
#include <vector>

namespace kestrel::sandbox {

// One allow (or errno) rule, with at most one argument comparison.
struct SyscallRule {
    int nr;
    int arg = -1;  // the compared argument, -1 for none
    scmp_compare op = SCMP_CMP_EQ;
    uint64_t datum_a = 0;  // the value, or the mask for SCMP_CMP_MASKED_EQ
    uint64_t datum_b = 0;  // the value for SCMP_CMP_MASKED_EQ
    uint32_t action = SCMP_ACT_ALLOW;
};

// The rules of a class's filter; everything else kills the process.
std::vector<SyscallRule> rules_for(ThreadClass thread_class, const SandboxConfig& config);

} // namespace kestrel::sandbox
