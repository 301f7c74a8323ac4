#include "ui/vnc/vnc_server.h"

#include "ui/keysym.h"
#include "ui/vnc/libvnc.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace kestrel {

// The listener whose connection rfbNewClient is setting up (its hook runs
// inside that call, on the accept thread).
thread_local const VncAddress* vnc_accepting_on = nullptr;

struct VncServer::Client {
    VncServer* server = nullptr;
    rfbClientPtr cl = nullptr;
    VncAddress address;
    VncAddress server_address;
    bool initialized = false;
    int buttons = 0;
    int last_x = -1, last_y = -1;
    std::vector<unsigned> keys_down;
};

namespace {

int64_t now_seconds() {
    using namespace std::chrono;
    return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

VncAddress peer_address(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    VncAddress a;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return a;
    if (ss.ss_family == AF_UNIX) {
        a.family = "unix";
        return a;
    }
    char host[NI_MAXHOST], port[NI_MAXSERV];
    if (getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
        a.host = host;
        a.service = port;
    }
    a.family = ss.ss_family == AF_INET6 ? "ipv6" : "ipv4";
    return a;
}

constexpr InputButton kButtons[] = {InputButton::Left, InputButton::Middle, InputButton::Right, InputButton::WheelUp,
                                    InputButton::WheelDown};

// As QEMU's VNC server scales: 0..size onto 0..0x7fff (so the last pixel
// column never reaches 0x7fff).
int64_t scale_axis(int value, int size) {
    if (size < 1) return InputEvent::kAbsMax / 2;
    return int64_t(value) * InputEvent::kAbsMax / size;
}

// The Surface's pixels, 0x00RRGGBB in host order, as libvncserver's
// server format (its own default at 32 bits has red in the low byte).
void use_surface_format(rfbScreenInfoPtr screen) {
    rfbPixelFormat& f = screen->serverFormat;
    if (f.redShift == 16 && f.greenShift == 8 && f.blueShift == 0) return;
    f.redShift = 16;
    f.greenShift = 8;
    f.blueShift = 0;
}

} // namespace

struct VncCallbacks {
    static VncServer::Client* client(rfbClientPtr cl) { return static_cast<VncServer::Client*>(cl->clientData); }
    static VncServer* server(rfbClientPtr cl) { return static_cast<VncServer*>(cl->screen->screenData); }

    static rfbNewClientAction on_new_client(rfbClientPtr cl) {
        VncServer* s = server(cl);
        auto* c = new VncServer::Client;
        c->server = s;
        c->cl = cl;
        c->address = peer_address(cl->sock);
        if (vnc_accepting_on) {
            c->server_address = *vnc_accepting_on;
            c->address.websocket = vnc_accepting_on->websocket;
        }
        cl->clientData = c;
        cl->clientGoneHook = on_client_gone;
        cl->clientFramebufferUpdateRequestHook = on_update_request;
        {
            std::lock_guard guard(s->lock_);
            s->clients_.push_back(c);
        }
        s->emit(VncClientEvent::Kind::Connected, *c);
        return RFB_CLIENT_ACCEPT;
    }

    static void on_client_gone(rfbClientPtr cl) {
        // libvncserver 0.9.14 (Debian 12) never frees a WebSocket client's
        // context (LibVNC/libvncserver#571, fixed after that release): 45
        // KiB lost per noVNC connection (LeakSanitizer). The client is going
        // and nothing reads it after this hook; a fixed library skips null.
        free(cl->wsctx);
        cl->wsctx = nullptr;
        VncServer::Client* c = client(cl);
        if (!c) return;
        VncServer* s = c->server;
        if (s->input_ && !c->keys_down.empty()) {  // no key stays held in the guest
            std::vector<InputEvent> up;
            for (unsigned q : c->keys_down) up.push_back(InputEvent::key(q, false));
            s->input_->send(up);
        }
        {
            std::lock_guard guard(s->lock_);
            std::erase(s->clients_, c);
        }
        s->emit(VncClientEvent::Kind::Disconnected, *c);
        cl->clientData = nullptr;
        delete c;
    }

    // Before libvncserver takes an update request. The first one: the
    // client finished its handshake.
    static void on_update_request(rfbClientPtr cl, rfbFramebufferUpdateRequestMsg*) {
        // No LastRect (an update of "0xffff rectangles" ended by a marker),
        // as QEMU's server has none: Debian's vncsnapshot asks for it with
        // tight but reads the marker as an empty rectangle and waits for
        // 65535 of them. Counted rectangles work for every client.
        cl->enableLastRectEncoding = FALSE;
        VncServer::Client* c = client(cl);
        if (!c || c->initialized) return;
        c->initialized = true;
        c->server->emit(VncClientEvent::Kind::Initialized, *c);
    }

    static void on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl) {
        VncServer::Client* c = client(cl);
        if (!c || !c->server->input_) return;
        unsigned q = keysym_to_qcode(keysym);
        if (!q) {
            spdlog::debug("vnc: no key for keysym {:#x}", keysym);
            return;
        }
        std::erase(c->keys_down, q);
        if (down) c->keys_down.push_back(q);
        c->server->input_->send({InputEvent::key(q, down)});
        c->server->displays_.input_activity();
    }

    static void on_pointer(int mask, int x, int y, rfbClientPtr cl) {
        VncServer::Client* c = client(cl);
        if (!c || !c->server->input_) return;
        VncServer* s = c->server;
        std::vector<InputEvent> events;
        for (unsigned bit = 0; bit < std::size(kButtons); ++bit)
            if ((mask ^ c->buttons) & (1 << bit)) events.push_back(InputEvent::btn(kButtons[bit], mask & (1 << bit)));
        c->buttons = mask;
        if (s->input_->absolute()) {
            events.push_back(InputEvent::abs(InputAxis::X, scale_axis(x, cl->screen->width)));
            events.push_back(InputEvent::abs(InputAxis::Y, scale_axis(y, cl->screen->height)));
        } else if (c->last_x >= 0) {
            if (x != c->last_x) events.push_back(InputEvent::rel(InputAxis::X, x - c->last_x));
            if (y != c->last_y) events.push_back(InputEvent::rel(InputAxis::Y, y - c->last_y));
        }
        c->last_x = x, c->last_y = y;
        if (!events.empty()) s->input_->send(events);
        s->displays_.input_activity();
    }

    // libvncserver computes a client's translation from the server format
    // here, also inside rfbNewFramebuffer (with every client locked out)
    // right after that reset the format to its default: the Surface's
    // format goes back first, so no client ever translates from another.
    static rfbBool set_translate(rfbClientPtr cl) {
        use_surface_format(cl->screen);
        return server(cl)->library_set_translate_(cl);
    }

    // VNC authentication: the client's DES of our challenge with the
    // password; refused while no password is set or it has expired.
    static rfbBool check_password(rfbClientPtr cl, const char* response, int len) {
        VncServer* s = server(cl);
        std::string password;
        {
            std::lock_guard guard(s->lock_);
            if (s->password_.empty()) return FALSE;
            if (s->password_expiry_ && now_seconds() >= *s->password_expiry_) return FALSE;
            password = s->password_;
        }
        if (len != CHALLENGESIZE) return FALSE;
        unsigned char expected[CHALLENGESIZE];
        std::memcpy(expected, cl->authChallenge, CHALLENGESIZE);
        char key[9] = {};
        std::strncpy(key, password.c_str(), 8);
        s->lib_->encrypt_bytes(expected, key);
        return std::memcmp(expected, response, CHALLENGESIZE) == 0 ? TRUE : FALSE;
    }
};

VncServer::VncServer(const VncConfig& config, DisplayService& displays, InputService* input)
    : config_(config), displays_(displays), input_(input) {}

VncServer::~VncServer() { stop(); }

void VncServer::emit(VncClientEvent::Kind kind, const Client& client) {
    std::function<void(const VncClientEvent&)> handler;
    {
        std::lock_guard guard(lock_);
        handler = handler_;
    }
    if (handler) handler({kind, client.server_address, client.address, config_.password ? "vnc" : "none"});
}

void VncServer::set_event_handler(std::function<void(const VncClientEvent&)> handler) {
    std::lock_guard guard(lock_);
    handler_ = std::move(handler);
}

void VncServer::start() {
    if (!config_.enabled) return;
    listen_all();
    pixels_ = Surface(width_, height_).buffer();  // black until the display reports
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    accept_thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "vnc-accept");
        accept_loop();
    });
    if (!displays_.consoles().empty()) {
        displays_.add_listener(*displays_.consoles().front(), *this);
        listening_on_display_ = true;
    }
}

// libvncserver and what it links (GnuTLS, libjpeg, zlib...: ~3 MiB
// resident) are loaded when the first client connects, not at start: many
// VMs' VNC servers never see one. Called with format_lock_ held.
bool VncServer::open_library_locked() {
    if (screen_) return true;
    try {
        lib_ = &LibVnc::get();
    } catch (const std::runtime_error& e) {
        spdlog::error("{}", e.what());
        return false;
    }
    *lib_->max_client_wait = 10000;  // ms a client may stall a send before it is dropped
    int argc = 0;
    _rfbScreenInfo* screen = lib_->get_screen(&argc, nullptr, width_, height_, 8, 3, 4);
    if (!screen) {
        spdlog::error("cannot set up the VNC server");
        return false;
    }
    screen->frameBuffer = reinterpret_cast<char*>(pixels_.get());
    use_surface_format(screen);
    library_set_translate_ = screen->setTranslateFunction;
    screen->setTranslateFunction = VncCallbacks::set_translate;
    screen->desktopName = "QEMU";
    screen->screenData = this;
    screen->port = 0;       // kestrel listens itself
    screen->ipv6port = 0;
    screen->cursor = nullptr;  // no cursor drawn into the picture (it is the console's own Surface)
    screen->newClientHook = VncCallbacks::on_new_client;
    screen->kbdAddEvent = VncCallbacks::on_key;
    screen->ptrAddEvent = VncCallbacks::on_pointer;
    screen->alwaysShared = config_.share != VncConfig::Share::AllowExclusive ? TRUE : FALSE;
    if (config_.password) {
        screen->authPasswdData = this;
        screen->passwordCheck = VncCallbacks::check_password;
    }
    lib_->init_server(screen);
    screen->backgroundLoop = TRUE;  // a thread pair per client
    screen_.store(screen, std::memory_order_release);  // mark() may use it from now on
    return true;
}

void VncServer::stop() {
    if (listening_on_display_) displays_.remove_listener(*this);
    listening_on_display_ = false;
    if (accept_thread_.joinable()) {
        uint64_t one = 1;
        [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
        accept_thread_.join();
    }
    if (_rfbScreenInfo* screen = screen_.exchange(nullptr)) {
        // As rfbShutdownServer, without its listener thread (there is none).
        rfbClientIteratorPtr it = lib_->get_client_iterator(screen);
        rfbClientPtr cl = lib_->client_iterator_next(it);
        while (cl) {
            rfbClientPtr next = lib_->client_iterator_next(it);
            if (cl->sock != RFB_INVALID_SOCKET) lib_->close_client(cl);
            pthread_join(cl->client_thread, nullptr);
            cl = next;
        }
        lib_->release_client_iterator(it);
        screen->backgroundLoop = FALSE;
        lib_->shutdown_server(screen, FALSE);
        lib_->screen_cleanup(screen);
    }
    pixels_.reset();
    for (const Listener& l : listeners_) {
        close(l.fd);
        if (l.address.family == "unix") unlink(l.address.service.c_str());
    }
    listeners_.clear();
    if (wake_fd_ >= 0) close(wake_fd_);
    wake_fd_ = -1;
}

VncStatus VncServer::status() const {
    VncStatus s;
    s.enabled = config_.enabled;
    s.id = config_.id;
    s.auth = config_.password ? "vnc" : "none";
    for (const Listener& l : listeners_) s.servers.push_back(l.address);
    std::lock_guard guard(lock_);
    for (const Client* c : clients_) s.clients.push_back(c->address);
    return s;
}

// --- The picture ---

void VncServer::mark(const Rect& r) {
    int x0 = std::max(r.x, 0), y0 = std::max(r.y, 0);
    int x1 = std::min(r.x + r.w, width_), y1 = std::min(r.y + r.h, height_);
    _rfbScreenInfo* screen = screen_.load(std::memory_order_acquire);
    if (screen && x1 > x0 && y1 > y0) lib_->mark_rect_modified(screen, x0, y0, x1, y1);
}

// Serves `surface`'s buffer from now on. rfbNewFramebuffer locks every
// client's sends out while it swaps, and marks everything modified (with a
// new size for the clients that take one); the old buffer is let go only
// after it returned, so no client reads freed memory. format_lock_ keeps a
// client that connects meanwhile from copying the library's default format.
void VncServer::serve(const Surface& surface) {
    std::shared_ptr<uint32_t[]> buffer = surface.buffer();
    std::lock_guard guard(format_lock_);
    width_ = surface.width(), height_ = surface.height();
    if (_rfbScreenInfo* screen = screen_.load()) {
        lib_->new_framebuffer(screen, reinterpret_cast<char*>(buffer.get()), width_, height_, 8, 3, 4);
        use_surface_format(screen);  // when no client was there to restore it
    }
    pixels_.swap(buffer);  // the old buffer goes when `buffer` does, after the lock
}

void VncServer::display_resized(const Surface& surface) {
    if (surface.data() != pixels_.get())
        serve(surface);
    else
        mark(surface.bounds());
}

void VncServer::display_updated(const Surface& surface, std::span<const Rect> rects) {
    if (surface.data() != pixels_.get()) {
        serve(surface);  // a new buffer, even of the same size: all of it is new
        return;
    }
    for (const Rect& r : rects) mark(r);
}

} // namespace kestrel
