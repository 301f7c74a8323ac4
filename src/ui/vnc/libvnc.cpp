#include "ui/vnc/libvnc.h"

#include <cstdarg>
#include <cstdlib>
#include <dlfcn.h>
#include <mutex>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <string>

namespace kestrel {

namespace {

template <typename T> void resolve(void* lib, T& out, const char* name) {
    out = reinterpret_cast<T>(dlsym(lib, name));
    if (!out) throw std::runtime_error(std::string("libvncserver has no ") + name);
}

// The library's log lines (connections, encodings) at debug level.
void log_line(const char* format, ...) {
    if (!spdlog::should_log(spdlog::level::debug)) return;
    char text[512];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof text, format, args);
    va_end(args);
    std::string line(text);
    while (!line.empty() && line.back() == '\n') line.pop_back();
    spdlog::debug("vnc: {}", line);
}

// libvncserver links GnuTLS for its websocket TLS, which kestrel never
// enables (and libvncserver calls gnutls_global_init() itself before any
// TLS use). GnuTLS would otherwise initialise itself in its constructor at
// dlopen: p11-kit modules, crypto back-ends, ~0.7 MiB resident for nothing.
void* open_without_gnutls_init(const char* name) {
    const char* kVar = "GNUTLS_NO_IMPLICIT_INIT";
    const bool was_set = getenv(kVar) != nullptr;
    if (!was_set) setenv(kVar, "1", 0);
    void* lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!was_set) unsetenv(kVar);  // not for the processes kestrel starts
    return lib;
}

LibVnc load() {
    void* lib = open_without_gnutls_init("libvncserver.so.1");
    if (!lib)
        throw std::runtime_error(std::string("VNC needs libvncserver (Debian package libvncserver1): ") + dlerror());
    LibVnc v{};
    resolve(lib, v.get_screen, "rfbGetScreen");
    resolve(lib, v.init_server, "rfbInitServerWithPthreadsAndZRLE");
    resolve(lib, v.new_client, "rfbNewClient");
    resolve(lib, v.start_on_hold_client, "rfbStartOnHoldClient");
    resolve(lib, v.new_framebuffer, "rfbNewFramebuffer");
    resolve(lib, v.mark_rect_modified, "rfbMarkRectAsModified");
    resolve(lib, v.shutdown_server, "rfbShutdownServer");
    resolve(lib, v.screen_cleanup, "rfbScreenCleanup");
    resolve(lib, v.close_client, "rfbCloseClient");
    resolve(lib, v.get_client_iterator, "rfbGetClientIterator");
    resolve(lib, v.client_iterator_next, "rfbClientIteratorNext");
    resolve(lib, v.release_client_iterator, "rfbReleaseClientIterator");
    resolve(lib, v.encrypt_bytes, "rfbEncryptBytes");
    resolve(lib, v.log, "rfbLog");
    resolve(lib, v.err, "rfbErr");
    resolve(lib, v.max_client_wait, "rfbMaxClientWait");
    *v.log = log_line;
    *v.err = log_line;
    return v;
}

} // namespace

const LibVnc& LibVnc::get() {
    static std::once_flag once;
    static LibVnc lib;
    std::call_once(once, [] { lib = load(); });
    return lib;
}

} // namespace kestrel
