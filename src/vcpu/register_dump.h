#pragma once
// Reading a stopped vCPU for the monitor: QEMU's "info registers" text and
// guest-virtual to guest-physical translation. The vCPU must not be inside
// KVM_RUN (KVM serializes vCPU ioctls): pause it first.
#include <cstdint>
#include <optional>
#include <string>

namespace kestrel {

// QEMU's layout: 64-bit names in long mode, 32-bit names otherwise; general
// registers, RIP/RFL with flag letters, segment caches with their type,
// descriptor tables, control and debug registers, EFER, x87/SSE state.
std::string dump_registers(int vcpu_fd);

// The physical address `gva` maps to in this vCPU's current page tables.
std::optional<uint64_t> translate_virtual(int vcpu_fd, uint64_t gva);

} // namespace kestrel
