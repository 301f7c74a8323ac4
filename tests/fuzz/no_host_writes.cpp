// The monitor targets run commands that write files the input names
// (memsave, pmemsave). So that fuzzing never creates or truncates a host
// file, every open() for writing made by kestrel's code goes to /dev/null
// instead; the command still sees a successful open and writes, as it
// would to a real file. The one exception is the target's own scratch
// folder (fuzz::scratch_dir(): images, boot files, a kernel cache), named
// by an absolute path without "..". Linked only into fuzz targets. These
// definitions take the place of glibc's for calls from the executable;
// libFuzzer writes
// its own files (crash inputs, corpus) through stdio, which uses glibc's
// internal open and is not affected.
// Without this, glibc's headers would name both functions open64.
#undef _FILE_OFFSET_BITS
#include <climits>
#include <cstdarg>
#include <cstring>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

// Constant-initialized: the guard may run before any constructor.
char writable_dir[PATH_MAX];

bool in_writable_dir(const char* path) {
    const size_t n = std::strlen(writable_dir);
    if (n == 0 || std::strncmp(path, writable_dir, n) != 0 || path[n] != '/') return false;
    for (const char* p = path + n; (p = std::strstr(p, "/..")) != nullptr; p += 3)
        if (p[3] == '/' || p[3] == '\0') return false;
    return true;
}

int guarded_openat(int dirfd, const char* path, int flags, mode_t mode) {
    const bool writes = (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC));
    if (writes && !in_writable_dir(path)) {
        path = "/dev/null";
        dirfd = AT_FDCWD;
        flags &= ~(O_CREAT | O_EXCL | O_TRUNC | O_DIRECTORY | O_TMPFILE | O_NOFOLLOW);
    }
    return int(syscall(SYS_openat, dirfd, path, flags, mode));
}

mode_t mode_arg(int flags, va_list args) {
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? mode_t(va_arg(args, int)) : 0;
}

} // namespace

namespace kestrel::fuzz {
void allow_writes_under(const char* dir) {
    std::strncpy(writable_dir, dir, sizeof writable_dir - 1);
}
} // namespace kestrel::fuzz

extern "C" {

int open(const char* path, int flags, ...) {
    va_list args;
    va_start(args, flags);
    const mode_t mode = mode_arg(flags, args);
    va_end(args);
    return guarded_openat(AT_FDCWD, path, flags, mode);
}

int open64(const char* path, int flags, ...) {
    va_list args;
    va_start(args, flags);
    const mode_t mode = mode_arg(flags, args);
    va_end(args);
    return guarded_openat(AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char* path, int flags, ...) {
    va_list args;
    va_start(args, flags);
    const mode_t mode = mode_arg(flags, args);
    va_end(args);
    return guarded_openat(dirfd, path, flags, mode);
}

int creat(const char* path, mode_t mode) { return guarded_openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, mode); }

} // extern "C"
