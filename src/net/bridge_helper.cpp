#include "net/bridge_helper.h"

#include "net/child_process.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace kestrel {

namespace {

std::vector<std::string> helper_argv(const std::string& helper, const std::string& bridge, int fd) {
    std::string fd_arg = "--fd=" + std::to_string(fd);
    if (helper.find_first_of(" \t") == std::string::npos) return {helper, "--use-vnet", fd_arg, "--br=" + bridge};
    std::string command = helper + " --use-vnet " + fd_arg;
    if (helper.find("--br=") == std::string::npos) command += " --br=" + bridge;
    return {"/bin/sh", "-c", command};
}

int receive_fd(int socket) {
    char byte;
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do n = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n <= 0) return -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
            return fd;
        }
    }
    return -1;
}

} // namespace

UniqueFd run_bridge_helper(const std::string& helper, const std::string& bridge) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        throw std::runtime_error(std::string("socketpair: ") + std::strerror(errno));
    UniqueFd ours(sv[0]), theirs(sv[1]);
    pid_t pid = spawn_keeping_fd(helper_argv(helper, bridge, theirs.get()), theirs.get());
    if (pid < 0) throw std::runtime_error(std::string("Failed to fork process: ") + std::strerror(errno));
    theirs.reset();
    UniqueFd tap(receive_fd(ours.get()));
    int receive_errno = errno;
    int status = wait_child(pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("bridge helper failed");
    if (!tap)
        throw std::runtime_error(std::string("failed to recv file descriptor: ") + std::strerror(receive_errno));
    return tap;
}

} // namespace kestrel
