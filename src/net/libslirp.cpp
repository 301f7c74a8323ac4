#include "net/libslirp.h"

#include <dlfcn.h>
#include <mutex>
#include <stdexcept>
#include <string>

namespace kestrel {

namespace {

template <typename T> void resolve(void* lib, T& out, const char* name) {
    out = reinterpret_cast<T>(dlsym(lib, name));
    if (!out) throw std::runtime_error(std::string("libslirp has no ") + name);
}

LibSlirp load() {
    void* lib = dlopen("libslirp.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        throw std::runtime_error(std::string("user networking needs libslirp (Debian package libslirp0): ") +
                                 dlerror());
    LibSlirp s{};
    resolve(lib, s.new_stack, "slirp_new");
    resolve(lib, s.cleanup, "slirp_cleanup");
    resolve(lib, s.pollfds_fill, "slirp_pollfds_fill");
    resolve(lib, s.pollfds_poll, "slirp_pollfds_poll");
    resolve(lib, s.input, "slirp_input");
    resolve(lib, s.handle_timer, "slirp_handle_timer");
    resolve(lib, s.add_hostfwd, "slirp_add_hostfwd");
    resolve(lib, s.remove_hostfwd, "slirp_remove_hostfwd");
    resolve(lib, s.add_exec, "slirp_add_exec");
    resolve(lib, s.add_guestfwd, "slirp_add_guestfwd");
    resolve(lib, s.socket_can_recv, "slirp_socket_can_recv");
    resolve(lib, s.socket_recv, "slirp_socket_recv");
    resolve(lib, s.connection_info, "slirp_connection_info");
    void* glib = dlopen("libglib-2.0.so.0", RTLD_NOW | RTLD_LOCAL);  // already mapped by libslirp
    if (!glib) throw std::runtime_error(std::string("libslirp without glib: ") + dlerror());
    resolve(glib, s.free, "g_free");
    return s;
}

} // namespace

const LibSlirp& LibSlirp::get() {
    static std::once_flag once;
    static LibSlirp lib;
    std::call_once(once, [] { lib = load(); });
    return lib;
}

} // namespace kestrel
