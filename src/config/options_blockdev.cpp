// -blockdev as QEMU 7.2 reads it, in both syntaxes (dotted keys, and the
// JSON object libvirt writes), for the drivers kestrel has: "file" (the
// protocol node), and "raw" and "qcow2" format nodes over one. Each root
// node no other node uses becomes a drive a device can name with drive=.
#include "config/block_opts.h"
#include "config/chardev_opts.h"
#include "config/hotplug_blockdev.h"
#include "config/json_keys.h"


#include <algorithm>
#include <map>
#include <optional>

namespace kestrel {
namespace {

constexpr size_t kMaxNodeName = 31;  // QEMU's BlockDriverState node_name[32]

// QEMU's drivers kestrel does not have: refused as such, not as unknown.
constexpr std::string_view kOtherDrivers[] = {
    "host_device", "host_cdrom", "nbd", "iscsi", "rbd", "gluster", "ssh", "http", "https", "nfs",
    "luks", "vmdk", "vdi", "vhdx", "vpc", "qed", "qcow", "null-co", "null-aio", "throttle",
    "copy-on-read", "blkdebug", "blkverify", "quorum", "replication", "compress", "preallocate",
};

// Keys each driver takes besides the common ones.
constexpr std::string_view kCommonKeys[] = {
    "driver", "node-name", "discard", "cache.direct", "cache.no-flush", "read-only",
    "auto-read-only", "force-share", "detect-zeroes",
};
constexpr std::string_view kFileKeys[] = {"filename", "aio", "locking", "pr-manager", "aio-max-batch",
                                          "drop-cache", "x-check-cache-dropped"};
constexpr std::string_view kRawKeys[] = {"file", "offset", "size"};
constexpr std::string_view kQcow2Keys[] = {
    "file", "backing", "l2-cache-size", "cache-size", "refcount-cache-size", "lazy-refcounts",
    "pass-discard-request", "pass-discard-snapshot", "pass-discard-other", "overlap-check",
    "cache-clean-interval", "encrypt", "data-file",
};
// Keys QEMU has that kestrel parses but does not implement.
constexpr std::string_view kUnimplementedKeys[] = {
    "pr-manager", "aio-max-batch", "drop-cache", "x-check-cache-dropped", "offset", "size",
    "refcount-cache-size", "lazy-refcounts", "pass-discard-request", "pass-discard-snapshot",
    "pass-discard-other", "overlap-check", "cache-clean-interval", "encrypt", "data-file",
};

template <typename List>
bool contains(const List& list, std::string_view name) {
    return std::find(std::begin(list), std::end(list), name) != std::end(list);
}

// One node: its own keys (children's keys stripped of their prefix).
struct NodeKeys {
    std::string prefix;  // "" for the root, "file." for its file child
    std::vector<TypedKey> keys;
    bool json = false;   // typed values; else every value is a string to parse

    const TypedKey* find(std::string_view key) const {
        for (const TypedKey& k : keys)
            if (k.key == key) return &k;
        return nullptr;
    }
    std::string full(std::string_view key) const { return prefix + std::string(key); }
    // The keys under `child.`, or the one value `child=...`.
    NodeKeys child(std::string_view name) const {
        NodeKeys c{full(name) + ".", {}, json};
        std::string dotted = std::string(name) + ".";
        for (const TypedKey& k : keys)
            if (k.key.starts_with(dotted)) c.keys.push_back({k.key.substr(dotted.size()), k.value, k.type});
        return c;
    }
};

struct Node {
    std::string location;
    std::string name;  // "" for an unnamed child
    std::string driver;
    std::string filename;
    std::optional<size_t> file;  // the child node ("file=")
    bool backing_null = false;
    std::optional<size_t> backing;  // backing=NODE, or a nested backing node
    bool read_only = false, auto_read_only = false, force_share = false;
    bool cache_direct = false, cache_no_flush = false;
    std::string discard = "ignore", detect_zeroes = "off", aio = "threads", locking = "auto";
    uint64_t l2_cache_size = 0;
    bool used_as_child = false;
};

class NodeBuilder {
public:
    NodeBuilder(std::vector<Node>& nodes, ParseState& st, std::string location)
        : nodes_(nodes), st_(st), location_(std::move(location)) {}

    size_t build(const NodeKeys& k, bool root) {
        Node n;
        n.location = location_;
        n.driver = enum_value(k, "driver", {"file", "raw", "qcow2"}, true);
        check_keys(k, n.driver);
        set_common(k, n);
        if (n.driver == "file") set_file(k, n);
        if (root && !k.find("node-name")) throw ConfigError("'node-name' must be specified for the root node");
        if (n.driver != "file") set_format(k, n);
        set_name(k, n);
        nodes_.push_back(std::move(n));
        return nodes_.size() - 1;
    }

private:
    static void missing(const NodeKeys& k, std::string_view key) {
        throw ConfigError("Parameter '" + k.full(key) + "' is missing");
    }

    std::string string_value(const NodeKeys& k, std::string_view key) const {
        const TypedKey* v = k.find(key);
        if (v && v->type != TypedKey::Type::String)
            throw ConfigError("Invalid parameter type for '" + k.full(key) + "', expected: string");
        return v ? v->value : "";
    }

    std::string enum_value(const NodeKeys& k, std::string_view key, std::initializer_list<std::string_view> values,
                           bool required) const {
        const TypedKey* v = k.find(key);
        if (!v) {
            if (required) missing(k, key);
            return "";
        }
        std::string s = string_value(k, key);
        if (key == "driver" && contains(kOtherDrivers, s))
            throw ConfigError("block driver '" + s + "' is not supported by kestrel yet (file, raw and qcow2 are)");
        if (std::find(values.begin(), values.end(), s) == values.end())
            throw ConfigError("Parameter '" + k.full(key) + "' does not accept value '" + s + "'");
        return s;
    }

    bool bool_value(const NodeKeys& k, std::string_view key, bool fallback) const {
        const TypedKey* v = k.find(key);
        if (!v) return fallback;
        if (v->type == TypedKey::Type::String && !k.json) {
            std::optional<bool> b = qopts::to_bool(v->value);
            if (!b) throw ConfigError("Parameter '" + k.full(key) + "' expects 'on' or 'off'");
            return *b;
        }
        if (v->type != TypedKey::Type::Bool)
            throw ConfigError("Invalid parameter type for '" + k.full(key) + "', expected: boolean");
        return v->value == "on";
    }

    uint64_t size_value(const NodeKeys& k, std::string_view key) const {
        const TypedKey* v = k.find(key);
        if (!v) return 0;
        if (v->type != (k.json ? TypedKey::Type::Number : TypedKey::Type::String))
            throw ConfigError("Invalid parameter type for '" + k.full(key) + "', expected: integer");
        std::optional<uint64_t> n = qopts::to_u64(v->value);
        if (!n || v->value.starts_with('-')) throw ConfigError("Parameter '" + k.full(key) + "' expects integer");
        return *n;
    }

    static void check_keys(const NodeKeys& k, const std::string& driver) {
        auto own = [&](std::string_view key) {
            std::string_view top = key.substr(0, key.find('.'));
            if (contains(kCommonKeys, key) || (key.starts_with("cache.") && contains(kCommonKeys, key))) return true;
            if (driver == "file") return contains(kFileKeys, key);
            bool child = top == "file" || (driver == "qcow2" && top == "backing");
            return child || (driver == "raw" ? contains(kRawKeys, key) : contains(kQcow2Keys, key));
        };
        for (const TypedKey& key : k.keys) {
            if (!own(key.key)) throw ConfigError("Parameter '" + k.full(key.key) + "' is unexpected");
            if (contains(kUnimplementedKeys, key.key))
                throw ConfigError("-blockdev option '" + k.full(key.key) + "' is not supported by kestrel yet");
        }
    }

    void set_name(const NodeKeys& k, Node& n) {
        n.name = string_value(k, "node-name");
        if (!k.find("node-name")) return;
        if (!is_qemu_identifier(n.name)) throw ConfigError("Invalid node-name: '" + n.name + "'");
        if (n.name.size() > kMaxNodeName) throw ConfigError("Node name too long");
        bool taken = std::any_of(nodes_.begin(), nodes_.end(), [&](const Node& o) { return o.name == n.name; });
        if (taken) throw ConfigError("Duplicate nodes with node-name='" + n.name + "'");
    }

    void set_common(const NodeKeys& k, Node& n) const {
        std::string discard = enum_value(k, "discard", {"ignore", "unmap"}, false);
        if (!discard.empty()) n.discard = discard;
        std::string zeroes = enum_value(k, "detect-zeroes", {"off", "on", "unmap"}, false);
        if (!zeroes.empty()) n.detect_zeroes = zeroes;
        n.read_only = bool_value(k, "read-only", false);
        n.auto_read_only = bool_value(k, "auto-read-only", false);
        n.force_share = bool_value(k, "force-share", false);
        n.cache_direct = bool_value(k, "cache.direct", false);
        n.cache_no_flush = bool_value(k, "cache.no-flush", false);
        if (n.detect_zeroes == "unmap" && n.discard != "unmap")
            throw ConfigError("setting detect-zeroes to unmap is not allowed without setting discard operation to unmap");
        if (n.detect_zeroes != "off")
            throw ConfigError("detect-zeroes=" + n.detect_zeroes + " is not supported by kestrel yet");
        if (n.force_share && !n.read_only)
            throw ConfigError("force-share=on can only be used with read-only images");
    }

    void set_file(const NodeKeys& k, Node& n) const {
        if (!k.find("filename")) missing(k, "filename");
        n.filename = string_value(k, "filename");
        std::string aio = enum_value(k, "aio", {"threads", "native", "io_uring"}, false);
        if (!aio.empty()) n.aio = aio;
        std::string locking = enum_value(k, "locking", {"auto", "on", "off"}, false);
        if (!locking.empty()) n.locking = locking;
        if (n.aio == "native" && !n.cache_direct)
            throw ConfigError("aio=native was specified, but it requires cache.direct=on, which was not specified.");
    }

    void set_format(const NodeKeys& k, Node& n) {
        if (n.driver == "qcow2") {
            n.l2_cache_size = size_value(k, "l2-cache-size");
            size_value(k, "cache-size");  // checked; QEMU's split of it leaves the L2 part at its default here
            set_backing(k, n);
        }
        n.file = child(k, "file", n);
    }

    void set_backing(const NodeKeys& k, Node& n) {
        const TypedKey* b = k.find("backing");
        if (!b && k.child("backing").keys.empty()) return;
        if (b && b->type == TypedKey::Type::String && b->value.empty()) {
            st_.warn(location_, "Use of \"backing\": \"\" is deprecated; use \"backing\": null instead");
            n.backing_null = true;
            return;
        }
        if (b && b->type == TypedKey::Type::Null) {
            n.backing_null = true;
            return;
        }
        n.backing = backing_node(k);
    }

    // backing=NODE (as libvirt names each layer of a chain) or a nested
    // one: a format node over a file node. kestrel opens the chain from the
    // image's header and checks, once open, that it names this node's file.
    size_t backing_node(const NodeKeys& k) {
        const TypedKey* ref = k.find("backing");
        size_t index = 0;
        if (ref) {
            if (ref->type != TypedKey::Type::String)
                throw ConfigError("Invalid parameter type for '" + k.full("backing") + "', expected: string");
            auto it = std::find_if(nodes_.begin(), nodes_.end(), [&](const Node& o) { return o.name == ref->value; });
            if (it == nodes_.end())
                throw ConfigError("Cannot find device='" + ref->value + "' nor node-name='" + ref->value + "'");
            index = size_t(it - nodes_.begin());
            if (it->used_as_child)
                throw ConfigError("Permission conflict on node '" + ref->value + "': it is already the child of "
                                  "another node");
        } else {
            index = build(k.child("backing"), false);
        }
        if (nodes_[index].driver == "file")
            throw ConfigError("a backing node that is a file node is not supported by kestrel yet (give a raw or "
                              "qcow2 node over it)");
        nodes_[index].used_as_child = true;
        return index;
    }

    // file=NODE names an earlier -blockdev; file.driver=... nests one.
    size_t child(const NodeKeys& k, std::string_view name, const Node& parent) {
        const TypedKey* ref = k.find(name);
        NodeKeys nested = k.child(name);
        if (!ref && nested.keys.empty()) missing(k, name);
        size_t index = 0;
        if (ref) {
            if (ref->type != TypedKey::Type::String)
                throw ConfigError("Invalid parameter type for '" + k.full(name) + "', expected: string");
            auto it = std::find_if(nodes_.begin(), nodes_.end(), [&](const Node& o) { return o.name == ref->value; });
            if (it == nodes_.end())
                throw ConfigError("Cannot find device='" + ref->value + "' nor node-name='" + ref->value + "'");
            index = size_t(it - nodes_.begin());
            if (nodes_[index].used_as_child)
                throw ConfigError("Permission conflict on node '" + ref->value + "': it is already the child of "
                                  "another node");
        } else {
            inherit(parent, nested);
            index = build(nested, false);
        }
        Node& c = nodes_[index];
        if (c.driver != "file")
            throw ConfigError("a " + parent.driver + " node over a " + c.driver +
                              " node is not supported by kestrel yet (only over a file node)");
        c.used_as_child = true;
        return index;
    }

    // What a nested child takes from its parent unless it says otherwise.
    static void inherit(const Node& parent, NodeKeys& child) {
        auto add = [&](std::string_view key, bool value) {
            if (!child.find(key)) child.keys.push_back({std::string(key), value ? "on" : "off", TypedKey::Type::Bool});
        };
        add("read-only", parent.read_only);
        add("cache.direct", parent.cache_direct);
        add("cache.no-flush", parent.cache_no_flush);
        if (!child.find("discard")) child.keys.push_back({"discard", parent.discard, TypedKey::Type::String});
    }

    std::vector<Node>& nodes_;
    ParseState& st_;
    std::string location_;
};

// A root node as the drive its device opens.
DriveConfig drive_of(const std::vector<Node>& nodes, const Node& top) {
    const Node& file = top.file ? nodes[*top.file] : top;
    DriveConfig d;
    d.location = top.location;
    d.id = top.name;
    d.node_name = top.name;
    d.file_node_name = top.file ? file.name : "";
    d.blockdev = true;
    d.interface = "none";
    d.file = file.filename;
    d.format = top.driver == "file" ? "raw" : top.driver;
    d.protocol_only = top.driver == "file";
    d.read_only = top.read_only || file.read_only;
    d.cache_direct = file.cache_direct;
    d.cache_no_flush = file.cache_no_flush || top.cache_no_flush;
    d.aio = file.aio;
    d.discard = top.discard == "unmap" && file.discard == "unmap" ? "unmap" : "ignore";
    d.lock = file.locking != "off";
    d.open_backing = !top.backing_null;
    if (top.backing) {
        const Node& backing = nodes[*top.backing];
        d.expected_backing_file = nodes[*backing.file].filename;
        d.expected_backing_format = backing.driver;
    }
    d.l2_cache_size = top.l2_cache_size;
    return d;
}

std::vector<TypedKey> keyval_keys(std::string_view text) {
    std::vector<TypedKey> keys;
    for (qopts::OptPair& p : qopts::split(text, "driver", qopts::Syntax::Keyval).pairs)
        keys.push_back({std::move(p.key), std::move(p.value), TypedKey::Type::String});
    return keys;
}

} // namespace

void handle_blockdev(ParseState& st, const ArgToken& tok) {
    std::string text = *tok.value;
    std::vector<TypedKey> keys = at_location(tok.location(), [&] {
        return text.starts_with('{') ? flatten_json_object(text) : keyval_keys(text);
    });
    st.blockdevs.push_back({tok.location(), std::move(keys), text.starts_with('{')});
}

void finalize_blockdevs(ParseState& st) {
    std::vector<Node> nodes;
    std::vector<size_t> roots;
    for (const PendingBlockdev& b : st.blockdevs)
        roots.push_back(at_location(b.location, [&] {
            return NodeBuilder(nodes, st, b.location).build(NodeKeys{"", b.keys, b.json}, true);
        }));
    for (size_t root : roots)
        if (!nodes[root].used_as_child) st.blockdev_drives.push_back(drive_of(nodes, nodes[root]));
    for (const Node& n : nodes)
        if (!n.name.empty()) st.block_node_names.push_back(n.name);
}

RuntimeBlockNodes runtime_block_nodes(const std::vector<std::string>& json_objects) {
    ParseState st;
    for (const std::string& text : json_objects) st.blockdevs.push_back({"", flatten_json_object(text), true});
    finalize_blockdevs(st);
    return {std::move(st.blockdev_drives), std::move(st.block_node_names)};
}

} // namespace kestrel
