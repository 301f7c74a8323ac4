#pragma once
// Every chardev of the command line, opened once, handed to the frontends
// (COM ports, monitors) by id. A mux=on chardev (mon:stdio) hands each
// frontend its own view; the mux switches input between them with C-a c.
#include "chardev/chardev.h"
#include "chardev/chardev_config.h"
#include "base/event_loop.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace kestrel {

struct ChardevInfo {
    std::string label;
    std::string filename;   // Chardev::filename()
    bool frontend_open;     // QEMU's "frontend-open": a frontend uses it (and has it open: Chardev::frontend_open)
};

// What the mux's control keys ask of the machine.
struct MuxActions {
    std::function<void()> exit;         // C-a x: "QEMU: Terminated", quit
    std::function<void()> flush_disks;  // C-a s
};

class ChardevSet {
public:
    // Opens every backend in order; the first side effects of a run (files
    // created, sockets bound, ptys announced on stderr, a server with
    // wait=on waits here for its first client). Throws std::runtime_error
    // "-chardev socket,id=x,...: <QEMU's reason>" style messages.
    // `program` prefixes the messages printed while running ("PROGRAM:
    // -chardev ...: info: QEMU waiting for connection on: ...").
    ChardevSet(const std::vector<ChardevConfig>& configs, EventLoop& loop, MuxActions actions = {},
               std::string program = "kestrel");
    ~ChardevSet();

    // The chardev a frontend talks through: the backend itself, or a new
    // mux view for mux=on. The parser has already checked that ids exist
    // and that non-mux chardevs are claimed once; violating that throws
    // ("Device 'ID' is in use", "chardev 'ID' not found").
    Chardev& claim(const std::string& id);
    // Its frontend went (device_del; it has detached): another may claim
    // it. A mux keeps its views; unknown ids are left alone.
    void release(const std::string& id);
    // A non-mux chardev some frontend holds now.
    bool in_use(const std::string& id) const;
    // query-chardev: one entry per backend in command-line order; a mux
    // shows as "ID" (filename "mux") followed by its backend "ID-base".
    std::vector<ChardevInfo> info() const;

    // At run time (a netdev_add's guestfwd= rule): opens one more backend
    // and claims it for its one frontend. Throws std::runtime_error with
    // the backend's reason alone (no location). Not for mux=on.
    Chardev& add(const ChardevConfig& cfg);
    // Deletes a backend (its frontend has detached); unknown ids and muxes
    // are left alone.
    void remove(const std::string& id);
    bool has(const std::string& id) const;
    // The configurations of the backends there are now.
    std::vector<ChardevConfig> configs() const;

private:
    struct Entry;
    EventLoop& loop_;
    std::string program_;
    std::vector<std::unique_ptr<Entry>> entries_;
};

} // namespace kestrel
