#pragma once
// Debian's libvncserver (RFB, its encodings, VNC authentication,
// WebSockets), loaded with dlopen when a VNC server starts: a machine
// without VNC never maps it and its dependencies (gnutls, libjpeg, ...).
#include <rfb/rfb.h>

namespace kestrel {

struct LibVnc {
    decltype(&::rfbGetScreen) get_screen;
    decltype(&::rfbInitServerWithPthreadsAndZRLE) init_server;
    decltype(&::rfbNewClient) new_client;
    decltype(&::rfbStartOnHoldClient) start_on_hold_client;
    decltype(&::rfbNewFramebuffer) new_framebuffer;
    decltype(&::rfbMarkRectAsModified) mark_rect_modified;
    decltype(&::rfbShutdownServer) shutdown_server;
    decltype(&::rfbScreenCleanup) screen_cleanup;
    decltype(&::rfbCloseClient) close_client;
    decltype(&::rfbGetClientIterator) get_client_iterator;
    decltype(&::rfbClientIteratorNext) client_iterator_next;
    decltype(&::rfbReleaseClientIterator) release_client_iterator;
    decltype(&::rfbEncryptBytes) encrypt_bytes;
    rfbLogProc* log;
    rfbLogProc* err;
    int* max_client_wait;

    // Loads libvncserver.so.1 once. Throws std::runtime_error naming the
    // missing library or symbol.
    static const LibVnc& get();
};

} // namespace kestrel
