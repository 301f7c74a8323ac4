#pragma once
// -chroot and -runas, as QEMU 7.2 applies them: once start-up is over
// (devices and backends open), the process moves into the directory and
// drops to the user, before the sandbox goes on.
#include <optional>
#include <string>
#include <sys/types.h>

namespace kestrel {

struct RunAs {
    std::string user;  // the name given, "" for a numeric uid:gid
    uid_t uid = 0;
    gid_t gid = 0;
};

// A user name from the password database, else "UID:GID" (numbers as
// strtoul reads them, below 2^32 - 1). nullopt when it is neither.
std::optional<RunAs> parse_runas(const std::string& text);

// chroot(dir) then chdir("/"). Throws std::runtime_error with QEMU's texts
// ("chroot failed").
void change_root(const std::string& dir);

// setgid, initgroups (by name) or setgroups (numeric), setuid; then checks
// that uid 0 cannot be regained. Throws std::runtime_error with QEMU's
// texts ("Failed to setuid(1000)", "Dropping privileges failed").
void drop_privileges(const RunAs& user);

} // namespace kestrel
