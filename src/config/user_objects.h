#pragma once
// The user-creatable objects kestrel has besides iothreads: secrets,
// memory backends and rng backends, from -object or QMP object-add, checked as QEMU 7.2
// checks them (its messages, no location prefix: the caller adds it).
#include "config/config.h"
#include "config/object_props.h"
#include "virtio/rng/rng_backend.h"

#include <memory>

#include <string>
#include <vector>

namespace kestrel {

// secret: data= or file=, format=raw|base64, optionally encrypted with
// AES-256-CBC under another secret (keyid=, iv=). The properties are read
// first (errors with the option's location), then the secret is loaded
// (QEMU's complete: no location). `known`: the secrets created before.
struct SecretProps {
    std::optional<std::string> data, file;
    bool base64 = false;
    std::optional<std::string> keyid, iv;
};
SecretProps read_secret_props(ObjectProps& props);
SecretConfig make_secret(const std::string& id, const SecretProps& props, const std::vector<SecretConfig>& known);

// memory-backend-ram|file|memfd. `dump`/`merge`: the machine's
// dump-guest-core and mem-merge, the defaults of dump= and merge=.
MemoryBackendConfig make_memory_backend(MemoryBackendConfig::Kind kind, const std::string& id, ObjectProps& props,
                                        bool dump, bool merge);

// What QEMU checks when it allocates the memory (its messages).
void check_memory_backend(const MemoryBackendConfig& b);

// rng-random (filename=, default /dev/urandom) and rng-builtin: the
// properties (errors with the option's location), then
// open_rng_object() opens the file as QEMU's complete does (no location).
bool is_rng_object_type(std::string_view type);
RngObjectConfig read_rng_props(std::string_view type, const std::string& id, ObjectProps& props);
std::shared_ptr<RngBackend> open_rng_object(const RngObjectConfig& rng);

// "memory-backend-ram" ... ; nullopt for other types.
std::optional<MemoryBackendConfig::Kind> memory_backend_kind(std::string_view type);

} // namespace kestrel

#include "kvm/host_memory.h"

#include <memory>

namespace kestrel {

// The secrets and memory backends that exist while the machine runs:
// those of the command line, then object-add's. A backend other than the
// machine's RAM (which GuestMemory maps) has its own mapping here.
class UserObjects {
public:
    struct Backend {
        MemoryBackendConfig cfg;
        HostMemory memory;        // empty for the machine's RAM
        bool machine_ram = false;
    };

    // Maps the command line's backends other than the machine's RAM
    // (throws std::runtime_error with QEMU's texts).
    explicit UserObjects(const Config& cfg);

    const std::vector<SecretConfig>& secrets() const { return secrets_; }
    const std::vector<std::unique_ptr<Backend>>& backends() const { return backends_; }
    // Any object id, iothreads included: ids are one namespace (/objects).
    bool has_id(const std::string& id) const;
    void add_secret(SecretConfig s);
    void add_backend(MemoryBackendConfig b);  // maps it; throws std::runtime_error
    // object-del: false when there is no such object; throws
    // std::runtime_error for one in use.
    bool remove(const std::string& id);

private:
    std::vector<std::string> iothread_ids_;
    std::vector<SecretConfig> secrets_;
    std::vector<std::unique_ptr<Backend>> backends_;
};

} // namespace kestrel
