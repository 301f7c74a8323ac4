#include "base/privileges.h"

#include "base/qemu_opts.h"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <stdexcept>
#include <unistd.h>

namespace kestrel {
namespace {

// A uid or gid: the whole text a number, and not the "none" value -1.
std::optional<uint32_t> parse_id(std::string_view text) {
    auto v = qopts::to_u64(text);
    if (!v || *v >= 0xffffffffu) return std::nullopt;
    return uint32_t(*v);
}

} // namespace

std::optional<RunAs> parse_runas(const std::string& text) {
    if (const passwd* pw = getpwnam(text.c_str())) return RunAs{pw->pw_name, pw->pw_uid, pw->pw_gid};
    const size_t colon = text.find(':');
    if (colon == std::string::npos) return std::nullopt;
    auto uid = parse_id(std::string_view(text).substr(0, colon));
    auto gid = parse_id(std::string_view(text).substr(colon + 1));
    if (!uid || !gid) return std::nullopt;
    return RunAs{"", *uid, *gid};
}

void change_root(const std::string& dir) {
    if (chroot(dir.c_str()) < 0) throw std::runtime_error("chroot failed");
    if (chdir("/") != 0) throw std::runtime_error(fmt::format("not able to chdir to /: {}", std::strerror(errno)));
}

void drop_privileges(const RunAs& user) {
    if (setgid(user.gid) < 0) throw std::runtime_error(fmt::format("Failed to setgid({})", user.gid));
    if (!user.user.empty()) {
        if (initgroups(user.user.c_str(), user.gid) < 0)
            throw std::runtime_error(fmt::format("Failed to initgroups(\"{}\", {})", user.user, user.gid));
    } else if (setgroups(1, &user.gid) < 0) {
        throw std::runtime_error(fmt::format("Failed to setgroups(1, [{}])", user.gid));
    }
    if (setuid(user.uid) < 0) throw std::runtime_error(fmt::format("Failed to setuid({})", user.uid));
    if (setuid(0) != -1) throw std::runtime_error("Dropping privileges failed");
}

} // namespace kestrel
