#include "config/user_objects.h"

#include "base/config_error.h"
#include "config/file_contents.h"

#include <cerrno>
#include <cstring>
#include <nettle/aes.h>
#include <nettle/cbc.h>
#include <sstream>
#include <stdexcept>

namespace kestrel {
namespace {

constexpr std::string_view kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// QEMU's qbase64_decode: the alphabet and '=' only, then glib's decoder
// (which stops at '=' and drops an incomplete last group).
std::string base64_decode(const std::string& text) {
    if (text.find('\0') != std::string::npos) throw ConfigError("Base64 data contains embedded NUL characters");
    for (char c : text)
        if (c != '=' && kBase64.find(c) == std::string_view::npos)
            throw ConfigError("Base64 data contains invalid characters");
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        if (c == '=') break;
        acc = (acc << 6) | uint32_t(kBase64.find(c));
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(char((acc >> bits) & 0xff));
        }
    }
    return out;
}

std::string read_secret_file(const std::string& path) {
    std::vector<uint8_t> data = read_file_contents(path, "Unable to read " + path);
    return std::string(data.begin(), data.end());
}

const SecretConfig& lookup_secret(const std::string& id, const std::vector<SecretConfig>& known) {
    for (const SecretConfig& s : known)
        if (s.id == id) return s;
    throw ConfigError("No secret with id '" + id + "'");
}

// AES-256-CBC under the key secret, PKCS#7 padding removed (QEMU's
// qcrypto_secret_decrypt).
std::string decrypt(const std::string& input, bool base64, const std::string& key,
                    const std::optional<std::string>& iv_text) {
    if (key.size() != 32) throw ConfigError("Key should be 32 bytes in length");
    if (!iv_text) throw ConfigError("IV is required to decrypt secret");
    std::string iv = base64_decode(*iv_text);
    if (iv.size() != 16) throw ConfigError("IV should be 16 bytes in length not " + std::to_string(iv.size()));
    std::string cipher = base64 ? base64_decode(input) : input;
    if (cipher.size() % AES_BLOCK_SIZE != 0)
        throw ConfigError("Length " + std::to_string(cipher.size()) + " must be a multiple of block size 16");
    if (cipher.empty()) throw ConfigError("Incorrect number of padding bytes (0) found on decrypted data");
    aes256_ctx ctx;
    aes256_set_decrypt_key(&ctx, reinterpret_cast<const uint8_t*>(key.data()));
    std::string plain(cipher.size(), '\0');
    auto* ivp = reinterpret_cast<uint8_t*>(iv.data());
    cbc_decrypt(&ctx, reinterpret_cast<nettle_cipher_func*>(aes256_decrypt), AES_BLOCK_SIZE, ivp, cipher.size(),
                reinterpret_cast<uint8_t*>(plain.data()), reinterpret_cast<const uint8_t*>(cipher.data()));
    auto pad = uint8_t(plain.back());
    if (pad > 16 || pad > plain.size())
        throw ConfigError("Incorrect number of padding bytes (" + std::to_string(pad) + ") found on decrypted data");
    plain.resize(plain.size() - pad);
    return plain;
}

} // namespace

SecretProps read_secret_props(ObjectProps& props) {
    SecretProps p;
    p.data = props.str("data");
    p.file = props.str("file");
    p.base64 = props.choice("format", {"raw", "base64"}).value_or("raw") == "base64";
    p.keyid = props.str("keyid");
    p.iv = props.str("iv");
    props.check_all_used();
    return p;
}

SecretConfig make_secret(const std::string& id, const SecretProps& p, const std::vector<SecretConfig>& known) {
    const auto& [data, file, base64, keyid, iv] = p;
    if (data && file) throw ConfigError("'file' and 'data' are mutually exclusive");
    if (!data && !file) throw ConfigError("Either 'file' or 'data' must be provided");
    std::string input = data ? *data : read_secret_file(*file);
    SecretConfig s{id, {}};
    if (keyid) {
        const SecretConfig& key = lookup_secret(*keyid, known);
        s.value = decrypt(input, base64, key.value, iv);
    } else {
        s.value = base64 ? base64_decode(input) : input;
    }
    return s;
}

bool is_rng_object_type(std::string_view type) { return type == "rng-random" || type == "rng-builtin"; }

RngObjectConfig read_rng_props(std::string_view type, const std::string& id, ObjectProps& props) {
    RngObjectConfig r{id, "", type == "rng-builtin"};
    if (!r.builtin) r.filename = props.str("filename").value_or("/dev/urandom");
    if (props.str("opened")) throw ConfigError("Property '" + std::string(type) + ".opened' is not writable");
    props.check_all_used();
    return r;
}

std::shared_ptr<RngBackend> open_rng_object(const RngObjectConfig& rng) {
    if (rng.builtin) return std::make_shared<RngBackend>(rng.id);
    return std::make_shared<RngBackend>(rng.id, rng.filename);
}

std::optional<MemoryBackendConfig::Kind> memory_backend_kind(std::string_view type) {
    using Kind = MemoryBackendConfig::Kind;
    for (Kind k : {Kind::Ram, Kind::File, Kind::Memfd})
        if (type == MemoryBackendConfig::type_name(k)) return k;
    return std::nullopt;
}

MemoryBackendConfig make_memory_backend(MemoryBackendConfig::Kind kind, const std::string& id, ObjectProps& props,
                                        bool dump, bool merge) {
    using Kind = MemoryBackendConfig::Kind;
    MemoryBackendConfig b;
    b.kind = kind;
    b.id = id;
    b.dump = props.boolean("dump").value_or(dump);
    b.merge = props.boolean("merge").value_or(merge);
    b.prealloc = props.boolean("prealloc").value_or(false);
    props.u64("prealloc-threads");  // the kernel faults the pages in (MADV_POPULATE_WRITE)
    b.share = props.boolean("share").value_or(kind == Kind::Memfd);  // memfd's default is shared, as QEMU's
    b.reserve = props.boolean("reserve").value_or(true);
    props.boolean("x-use-canonical-path-for-ramblock-id");  // RAM block names matter only to migration
    std::string policy = props.choice("policy", {"default", "preferred", "bind", "interleave"}).value_or("default");
    if (kind == Kind::File) {
        b.align = props.size("align").value_or(0);
        b.discard_data = props.boolean("discard-data").value_or(false);
        b.readonly = props.boolean("readonly").value_or(false);
        if (props.boolean("pmem").value_or(false))
            throw ConfigError("Lack of libpmem support while setting the 'pmem=on' of memory-backend-file '" + id +
                              "'. We can't ensure data persistence.");
    }
    if (kind == Kind::Memfd) {
        b.hugetlb = props.boolean("hugetlb").value_or(false);
        b.hugetlbsize = props.size("hugetlbsize").value_or(0);
        b.seal = props.boolean("seal").value_or(true);
    }
    std::optional<uint64_t> size = props.size("size");
    std::optional<std::string> path = kind == Kind::File ? props.str("mem-path") : std::nullopt;
    props.check_all_used();
    if (!size) throw ConfigError("Parameter 'size' is missing");
    if (kind == Kind::File && !path) throw ConfigError("Parameter 'mem-path' is missing");
    b.size = *size;
    if (path) b.mem_path = *path;
    if (policy != "default")
        throw ConfigError("policy=" + policy + " needs host NUMA binding, which kestrel does not do");
    return b;
}

// Checks QEMU makes when it allocates the memory (no location prefix).
void check_memory_backend(const MemoryBackendConfig& b) {
    // QEMU's property setters refuse the pair in either order, before the size is checked.
    if (b.prealloc && !b.reserve) throw ConfigError("'prealloc=on' and 'reserve=off' are incompatible");
    if (b.size == 0)
        throw ConfigError(std::string("property 'size' of ") + MemoryBackendConfig::type_name(b.kind) +
                          " doesn't take value '0'");
    if (b.align && (b.align & 0xfff || (b.align & (b.align - 1)))) {
        std::ostringstream msg;
        msg << "alignment 0x" << std::hex << b.align << " must be multiples of page size 0x1000";
        throw ConfigError(msg.str());
    }
    if (b.readonly)
        throw ConfigError("readonly=on: kestrel cannot give the guest read-only RAM");
}

} // namespace kestrel

namespace kestrel {

// Without -machine memory-backend=, guest RAM is QEMU's implicit "pc.ram"
// backend (create_default_memdev): listed by query-memdev, its id taken.
static MemoryBackendConfig implicit_ram_backend(const MemoryConfig& mem) {
    MemoryBackendConfig b;
    b.kind = mem.mem_path.empty() ? MemoryBackendConfig::Kind::Ram : MemoryBackendConfig::Kind::File;
    b.id = "pc.ram";
    b.size = mem.size;
    b.prealloc = mem.prealloc;
    b.merge = mem.merge;
    b.dump = mem.dump;
    b.share = !mem.mem_path.empty();  // kestrel maps a -mem-path file shared
    b.mem_path = mem.mem_path;
    return b;
}

UserObjects::UserObjects(const Config& cfg) : secrets_(cfg.secrets) {
    for (const IothreadConfig& t : cfg.iothreads) iothread_ids_.push_back(t.id);
    if (!cfg.memory.backend)
        backends_.push_back(std::make_unique<Backend>(Backend{implicit_ram_backend(cfg.memory), HostMemory(), true}));
    for (const MemoryBackendConfig& b : cfg.memory_backends) {
        if (cfg.memory.backend && cfg.memory.backend->id == b.id) {
            backends_.push_back(std::make_unique<Backend>(Backend{b, HostMemory(), true}));
            continue;
        }
        add_backend(b);
    }
}

bool UserObjects::has_id(const std::string& id) const {
    for (const std::string& t : iothread_ids_)
        if (t == id) return true;
    for (const SecretConfig& s : secrets_)
        if (s.id == id) return true;
    for (const auto& b : backends_)
        if (b->cfg.id == id) return true;
    return false;
}

void UserObjects::add_secret(SecretConfig s) { secrets_.push_back(std::move(s)); }

void UserObjects::add_backend(MemoryBackendConfig b) {
    HostMemory memory = HostMemory::map_backend(b);
    backends_.push_back(std::make_unique<Backend>(Backend{std::move(b), std::move(memory), false}));
}

bool UserObjects::remove(const std::string& id) {
    for (auto it = secrets_.begin(); it != secrets_.end(); ++it) {
        if (it->id != id) continue;
        secrets_.erase(it);
        return true;
    }
    for (auto it = backends_.begin(); it != backends_.end(); ++it) {
        if ((*it)->cfg.id != id) continue;
        if ((*it)->machine_ram) throw std::runtime_error("object '" + id + "' is in use, can not be deleted");
        backends_.erase(it);
        return true;
    }
    for (const std::string& t : iothread_ids_)
        if (t == id) throw std::runtime_error("kestrel cannot delete iothread '" + id + "'");
    return false;
}

} // namespace kestrel
