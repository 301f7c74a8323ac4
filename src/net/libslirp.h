#pragma once
// Debian's libslirp (QEMU's user-mode network stack: TCP/IP, DHCP, DNS
// forwarding, TFTP), loaded with dlopen when the first -netdev user opens:
// a machine without user networking never maps it or glib.
#include <slirp/libslirp.h>

namespace kestrel {

struct LibSlirp {
    decltype(&::slirp_new) new_stack;
    decltype(&::slirp_cleanup) cleanup;
    decltype(&::slirp_pollfds_fill) pollfds_fill;
    decltype(&::slirp_pollfds_poll) pollfds_poll;
    decltype(&::slirp_input) input;
    decltype(&::slirp_handle_timer) handle_timer;
    decltype(&::slirp_add_hostfwd) add_hostfwd;
    decltype(&::slirp_remove_hostfwd) remove_hostfwd;
    decltype(&::slirp_add_exec) add_exec;
    decltype(&::slirp_add_guestfwd) add_guestfwd;
    decltype(&::slirp_socket_can_recv) socket_can_recv;
    decltype(&::slirp_socket_recv) socket_recv;
    decltype(&::slirp_connection_info) connection_info;
    void (*free)(void*);   // glib's g_free, for connection_info's text

    // Loads libslirp.so.0 once. Throws std::runtime_error naming what is missing.
    static const LibSlirp& get();
};

} // namespace kestrel
