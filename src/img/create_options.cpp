#include "img/create_options.h"

#include "block/async/aio_context.h"
#include "block/image/image_open.h"
#include "block/image_file.h"
#include "block/qcow2/qcow2_image.h"
#include "img/img_common.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace kestrel::img {

namespace {

struct OptionDesc {
    const char* name;
    const char* type;  // as "-o help" shows it
    const char* help;
};

// "-o help" lists these, sorted by name as QEMU prints them.
const OptionDesc kQcow2Options[] = {
    {"backing_file", "str", "File name of a base image"},
    {"backing_fmt", "str", "Image format of the base image"},
    {"cluster_size", "size", "qcow2 cluster size"},
    {"compat", "str", "Compatibility level (v2 [0.10] or v3 [1.1])"},
    {"compression_type", "str", "Compression method used for image cluster compression"},
    {"lazy_refcounts", "bool (on/off)", "Postpone refcount updates"},
    {"preallocation", "str", "Preallocation mode (allowed values: off, metadata, falloc, full)"},
    {"refcount_bits", "num", "Width of a reference count entry in bits"},
    {"size", "size", "Virtual disk size"},
};
const OptionDesc kRawOptions[] = {
    {"preallocation", "str", "Preallocation mode (allowed values: off, falloc, full)"},
    {"size", "size", "Virtual disk size"},
};

// QEMU's order in "Formatting ...", and the defaults it shows.
struct PrintedOption {
    const char* name;
    const char* default_value;  // nullptr: shown only when given
    bool numeric;               // sizes print as byte counts
};
const PrintedOption kQcow2Printed[] = {
    {"cluster_size", "65536", true},  {"extended_l2", "off", false},  {"preallocation", nullptr, false},
    {"compression_type", "zlib", false}, {"size", nullptr, true},      {"compat", nullptr, false},
    {"backing_file", nullptr, false},  {"backing_fmt", nullptr, false}, {"lazy_refcounts", "off", false},
    {"refcount_bits", "16", false},
};
const PrintedOption kRawPrinted[] = {{"size", nullptr, true}, {"preallocation", nullptr, false}};

// Options QEMU has that kestrel-img refuses (rather than ignoring them).
const char* const kQcow2Unsupported[] = {"data_file", "data_file_raw", "encryption", "encrypt.format",
                                         "encrypt.key-secret", "encrypt.cipher-alg", "encrypt.cipher-mode",
                                         "encrypt.ivgen-alg", "encrypt.ivgen-hash-alg", "encrypt.hash-alg",
                                         "encrypt.iter-time"};

template <typename T, size_t N>
bool has_name(const T (&list)[N], const std::string& name) {
    for (const T& o : list)
        if (name == o.name) return true;
    return false;
}

bool parse_bool(const std::string& name, const std::string& v) {
    if (v == "on" || v == "yes" || v == "true" || v == "y") return true;
    if (v == "off" || v == "no" || v == "false" || v == "n") return false;
    fail("Parameter '" + name + "' expects 'on' or 'off'");
}

uint64_t parse_size_value(const std::string& name, const std::string& v) {
    uint64_t out = 0;
    if (!parse_size(v, out) || out > uint64_t(INT64_MAX))
        fail_with_hint("Parameter '" + name + "' expects a non-negative number below 2^64",
                       "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\n"
                       "and exabytes, respectively.");
    return out;
}

Preallocation parse_prealloc(const std::string& v, bool qcow2) {
    if (v == "off") return Preallocation::Off;
    if (v == "metadata" && qcow2) return Preallocation::Metadata;
    if (v == "falloc") return Preallocation::Falloc;
    if (v == "full") return Preallocation::Full;
    fail("Parameter 'preallocation' does not accept value '" + v + "'");
}

std::string formatting_line(const CreateRequest& r, uint64_t size) {
    std::string line = "Formatting '" + r.filename + "', fmt=" + r.format;
    auto print = [&](const PrintedOption& p) {
        auto it = r.options.find(p.name);
        std::string value;
        if (std::string(p.name) == "size") {
            value = std::to_string(size);
        } else if (it != r.options.end()) {
            value = p.numeric ? std::to_string(parse_size_value(p.name, it->second)) : it->second;
        } else if (p.default_value) {
            value = p.default_value;
        } else {
            return;
        }
        line += ' ';
        line += p.name;
        line += '=';
        line += value;
    };
    if (r.format == "qcow2")
        for (const PrintedOption& p : kQcow2Printed) print(p);
    else
        for (const PrintedOption& p : kRawPrinted) print(p);
    return line;
}

int write_zero_range(int fd, uint64_t offset, uint64_t length) {
    std::vector<uint8_t> zeros(1 << 20, 0);
    while (length > 0) {
        size_t n = size_t(std::min<uint64_t>(length, zeros.size()));
        ssize_t w = pwrite(fd, zeros.data(), n, off_t(offset));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return w < 0 ? -errno : -EIO;
        offset += uint64_t(w);
        length -= uint64_t(w);
    }
    return 0;
}

void create_raw(const CreateRequest& r, uint64_t size) {
    Preallocation prealloc = Preallocation::Off;
    if (auto it = r.options.find("preallocation"); it != r.options.end()) prealloc = parse_prealloc(it->second, false);
    int fd = ::open(r.filename.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) fail(r.filename + ": Could not create '" + r.filename + "': " + std::strerror(errno));
    int err = ftruncate(fd, off_t(size)) == 0 ? 0 : -errno;
    if (!err && prealloc == Preallocation::Falloc && size) err = -posix_fallocate(fd, 0, off_t(size));
    if (!err && prealloc == Preallocation::Full) err = write_zero_range(fd, 0, size);
    // As QEMU: the first block is allocated, so that probing the alignment works later.
    if (!err && prealloc == Preallocation::Off && size) err = write_zero_range(fd, 0, std::min<uint64_t>(size, 4096));
    close(fd);
    if (err) fail(r.filename + ": Could not create image: " + errno_text(err));
}

Qcow2CreateOptions qcow2_options(const CreateRequest& r, uint64_t size) {
    Qcow2CreateOptions q;
    q.size = size;
    const auto& o = r.options;
    auto get = [&](const char* name) -> const std::string* {
        auto it = o.find(name);
        return it == o.end() ? nullptr : &it->second;
    };
    if (auto v = get("cluster_size")) q.cluster_size = uint32_t(std::min<uint64_t>(parse_size_value("cluster_size", *v), UINT32_MAX));
    if (auto v = get("compat")) {
        if (*v == "0.10" || *v == "v2") q.version = 2;
        else if (*v == "1.1" || *v == "v3") q.version = 3;
        else fail("Invalid compatibility level: '" + *v + "'");
    }
    if (auto v = get("lazy_refcounts")) q.lazy_refcounts = parse_bool("lazy_refcounts", *v);
    if (auto v = get("refcount_bits")) {
        char* end = nullptr;
        unsigned long bits = std::strtoul(v->c_str(), &end, 10);
        if (v->empty() || *end) fail("Parameter 'refcount_bits' expects a number");
        q.refcount_bits = uint32_t(std::min<unsigned long>(bits, 1000));
    }
    if (auto v = get("preallocation")) q.preallocation = parse_prealloc(*v, true);
    if (auto v = get("extended_l2"); v && parse_bool("extended_l2", *v))
        fail("Extended L2 entries (subclusters) are not supported by kestrel-img");
    if (auto v = get("compression_type")) {
        if (*v == "zstd") q.compression_type = qcow2::CompressionType::Zstd;
        else if (*v != "zlib") fail("Parameter 'compression-type' does not accept value '" + *v + "'");
    }
    if (auto v = get("backing_file")) q.backing_file = *v;
    if (auto v = get("backing_fmt")) q.backing_format = *v;
    std::string problem = check_qcow2_create_options(q);
    if (!problem.empty()) fail(problem);
    return q;
}

void create_qcow2(const Qcow2CreateOptions& q, const std::string& filename) {
    int fd = ::open(filename.c_str(), O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0644);
    if (fd < 0) fail("Could not create '" + filename + "': " + std::strerror(errno));
    int err = write_new_qcow2(fd, q);
    close(fd);
    if (err) fail("Could not write qcow2 header: " + errno_text(err));
    if (q.preallocation == Preallocation::Off) return;
    AioContext ctx;
    ImageFile file = open_image_file(filename, true, CacheMode::Writeback);
    Qcow2OpenOptions o;
    o.read_only = false;
    auto image = Qcow2Image::open(ctx, filename, std::move(file), o);
    err = ctx.run(image->preallocate(q.preallocation));
    if (err == 0) err = ctx.run(image->close());
    if (err) fail("Could not preallocate: " + errno_text(err));
}

// Size and backing file the way bdrv_img_create settles them.
uint64_t settle_backing_and_size(CreateRequest& r) {
    auto& o = r.options;
    bool have_size = o.count("size");
    uint64_t size = have_size ? parse_size_value("size", o["size"]) : 0;
    auto backing = o.find("backing_file");
    if (backing == o.end()) {
        if (!have_size) fail("Image creation needs a size parameter");
        return size;
    }
    if (backing->second.empty()) fail("Expected backing file name, got empty string");
    if (backing->second == r.filename) fail("Error: Trying to create an image with the same filename as the backing file");
    if (r.unsafe_backing && have_size) return size;
    std::string path = resolve_backing_path(r.filename, backing->second);
    std::string fmt = o.count("backing_fmt") ? o["backing_fmt"] : "";
    AioContext ctx;
    std::unique_ptr<AsyncImage> base;
    try {
        ImageOpenOptions b;
        b.path = path;
        b.format = fmt;
        b.lock = false;
        base = open_image(ctx, b);
    } catch (const std::exception& e) {
        fail(std::string("Could not open backing file: ") + e.what());
    }
    if (fmt.empty())
        fail_with_hint("Backing file specified without backing format",
                       std::string("Detected format of ") + base->format_name() + ".");
    if (!have_size) {
        size = base->size();
        o["size"] = std::to_string(size);
    }
    return size;
}

} // namespace

bool known_format(const std::string& format) { return format == "raw" || format == "qcow2"; }

void parse_create_options(const std::string& text, std::map<std::string, std::string>& out) {
    size_t pos = 0;
    while (pos <= text.size()) {
        // Values may contain ",," for a comma.
        std::string item;
        while (pos < text.size()) {
            if (text[pos] == ',') {
                if (pos + 1 < text.size() && text[pos + 1] == ',') {
                    item += ',';
                    pos += 2;
                    continue;
                }
                break;
            }
            item += text[pos++];
        }
        pos++;
        if (item.empty()) continue;
        auto eq = item.find('=');
        if (eq == std::string::npos) {
            if (item == "help" || item == "?") out["help"] = "";
            else fail("Invalid option list: " + text);  // QEMU: a bare name needs '='
            continue;
        }
        out[item.substr(0, eq)] = item.substr(eq + 1);
    }
}

void print_create_help(const std::string& format) {
    std::printf("Supported %s options:\n", format.c_str());
    auto show = [](const OptionDesc& d) {
        std::string left = std::string(d.name) + "=<" + d.type + ">";
        std::printf("  %-22s - %s\n", left.c_str(), d.help);
    };
    if (format == "qcow2")
        for (const OptionDesc& d : kQcow2Options) show(d);
    else
        for (const OptionDesc& d : kRawOptions) show(d);
    std::printf("\nThe protocol level may support further options.\nSpecify the target filename to include those options.\n");
}

void create_image(CreateRequest r) {
    try {
        if (!known_format(r.format)) fail("Unknown file format '" + r.format + "'");
        for (const auto& [name, value] : r.options) {
            bool ok = r.format == "qcow2" ? has_name(kQcow2Options, name) || name == "extended_l2"
                                          : has_name(kRawOptions, name) || name == "nocow";
            if (r.format == "qcow2")
                for (const char* u : kQcow2Unsupported)
                    if (name == u) fail("Option '" + name + "' is not supported by kestrel-img");
            if (!ok) {
                if (r.format == "raw" && name == "backing_file")
                    fail("Backing file not supported for file format 'raw'");
                if (r.format == "raw" && name == "backing_fmt")
                    fail("Backing file format not supported for file format 'raw'");
                fail("Invalid parameter '" + name + "'");
            }
        }
        uint64_t size = settle_backing_and_size(r);
        if (!r.quiet) {  // before the format's own checks, as QEMU prints it
            std::printf("%s\n", formatting_line(r, size).c_str());
            std::fflush(stdout);
        }
        Qcow2CreateOptions q;
        if (r.format == "qcow2") q = qcow2_options(r, size);
        if (r.format == "raw")
            create_raw(r, size);
        else
            create_qcow2(q, r.filename);
    } catch (const Failure& f) {
        if (std::string(f.what()).rfind(r.filename + ": ", 0) == 0) throw;
        throw Failure(r.filename + ": " + f.what(), f.status, f.hint, f.extra);
    }
}

} // namespace kestrel::img
