#pragma once
// Runs a helper program (network scripts, the bridge helper) the way QEMU
// does: only stdin, stdout, stderr and one descriptor of ours stay open in
// it. Safe in a process with threads: nothing is allocated after fork().
#include <string>
#include <sys/types.h>
#include <vector>

namespace kestrel {

// Starts argv[0] with `argv` (keep_fd: -1 for none, else it keeps that
// number). Returns the child's pid, or -1 with errno if fork failed; an
// exec failure makes the child exit with status 1.
pid_t spawn_keeping_fd(const std::vector<std::string>& argv, int keep_fd);

// Waits for the child; returns its raw wait status.
int wait_child(pid_t pid);

} // namespace kestrel
