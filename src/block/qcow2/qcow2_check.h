#pragma once
// qemu-img check for qcow2: every reference the L1/L2 tables (active and
// snapshots), the refcount structures and the header make is counted and
// compared with the stored refcounts. Leaks (refcount too high) and errors
// (too low: a cluster could be handed out twice) can be repaired.
#include "block/async/task.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kestrel {

class Qcow2Image;

enum class Qcow2Repair { None, Leaks, All };

struct Qcow2CheckResult {
    uint64_t corruptions = 0, leaks = 0, check_errors = 0;
    uint64_t corruptions_fixed = 0, leaks_fixed = 0;
    uint64_t image_end_offset = 0;
    uint64_t total_clusters = 0, allocated_clusters = 0;
    uint64_t fragmented_clusters = 0, compressed_clusters = 0;
    // What qemu-img prints on stderr while checking, one line each.
    std::vector<std::string> messages;
};

// 0, or -errno when the check could not be completed.
Task<int> qcow2_check(Qcow2Image& image, Qcow2Repair repair, Qcow2CheckResult& result);

} // namespace kestrel
