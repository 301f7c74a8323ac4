#pragma once
// The VNC server: libvncserver (RFB 3.8, raw/tight/zrle/... encodings,
// VNC authentication, desktop resize, WebSockets for noVNC) over sockets
// kestrel listens on itself (TCP on the -vnc address, a unix socket, the
// websocket= port). It shows the machine's first console and feeds the
// InputService: keysyms through the en-us keymap, the pointer as absolute
// positions when a tablet takes them, else as relative moves.
//
// Threads: one accept thread; libvncserver's input and output threads per
// client; the display thread calls display_resized/updated. The clients
// read the console's Surface itself (libvncserver's server pixel format set
// to the Surface's, so no copy of the picture is kept): display_updated only
// marks rectangles, display_resized hands libvncserver the new buffer. A
// slow client blocks only its own threads, never the guest or the display.
#include "ui/display_service.h"
#include "ui/input.h"
#include "ui/vnc_config.h"
#include "ui/vnc_service.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

struct _rfbScreenInfo;
struct _rfbClientRec;

namespace kestrel {

struct LibVnc;

class VncServer final : public VncService, public DisplayListener {
public:
    VncServer(const VncConfig& config, DisplayService& displays, InputService* input);
    ~VncServer() override;
    VncServer(const VncServer&) = delete;
    VncServer& operator=(const VncServer&) = delete;

    // Listens and starts serving (the library is loaded at the first
    // client). Throws
    // std::runtime_error with QEMU's texts ("Failed to find an available
    // port: Address already in use").
    void start();
    // "VNC server running on HOST:PORT" (printed when QEMU would).
    std::string running_message() const;

    // VncService
    VncStatus status() const override;
    void set_password(const std::string& password) override;
    void expire_password(const std::string& when) override;
    void set_event_handler(std::function<void(const VncClientEvent&)> handler) override;

    // DisplayListener
    void display_resized(const Surface& surface) override;
    void display_updated(const Surface& surface, std::span<const Rect> rects) override;

private:
    struct Listener {
        int fd;
        VncAddress address;
    };
    struct Client;
    void listen_all();
    void listen_tcp(const std::string& host, int port, bool websocket);
    void accept_loop();
    void accept_one(const Listener& listener);
    bool open_library_locked();
    void stop();
    void emit(VncClientEvent::Kind kind, const Client& client);
    void serve(const Surface& surface);
    void mark(const Rect& r);

    friend struct VncCallbacks;  // libvncserver's C callbacks (vnc_server.cpp)

    VncConfig config_;
    DisplayService& displays_;
    InputService* input_;
    const LibVnc* lib_ = nullptr;
    std::atomic<_rfbScreenInfo*> screen_ = nullptr;  // set when the first client connects
    // The buffer libvncserver serves (the console's surface; black until the
    // display first reports), kept alive while the clients may read it.
    std::shared_ptr<uint32_t[]> pixels_;
    int width_ = 640, height_ = 480;
    // Held while libvncserver's server pixel format may be its own default
    // (inside rfbNewFramebuffer) and while rfbNewClient copies it.
    std::mutex format_lock_;
    int8_t (*library_set_translate_)(_rfbClientRec*) = nullptr;  // rfbSetTranslateFunction
    std::vector<Listener> listeners_;
    int wake_fd_ = -1;
    std::thread accept_thread_;
    bool listening_on_display_ = false;

    mutable std::mutex lock_;  // password, clients, handler
    std::string password_;
    std::optional<int64_t> password_expiry_;  // seconds since the epoch
    std::vector<Client*> clients_;
    std::function<void(const VncClientEvent&)> handler_;
};

} // namespace kestrel
