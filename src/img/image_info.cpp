#include "img/image_info.h"

#include "block/image/image_open.h"
#include "block/qcow2/qcow2_image.h"
#include "img/img_common.h"

#include <cinttypes>
#include <cstdio>
#include <ctime>

namespace kestrel::img {

namespace {

Qcow2Image* as_qcow2(AsyncImage& image) { return dynamic_cast<Qcow2Image*>(&image); }

struct Facts {
    std::string backing, full_backing, backing_format;
    bool dirty = false;
    uint64_t cluster_size = 0;
};

Facts facts_of(AsyncImage& image, const std::string& filename) {
    Facts f;
    if (Qcow2Image* q = as_qcow2(image)) {
        const qcow2::Header& h = q->header();
        f.backing = h.backing_file;
        f.full_backing = resolve_backing_path(filename, h.backing_file);
        f.backing_format = h.backing_format;
        f.dirty = h.dirty();
        f.cluster_size = h.cluster_size();
    }
    return f;
}

const char* compression_type_name(const qcow2::Header& h) {
    return h.compression_type == qcow2::CompressionType::Zstd ? "zstd" : "zlib";
}

Json format_specific(Qcow2Image& q) {
    const qcow2::Header& h = q.header();
    Json data = Json::object();
    data.set("compat", h.version >= 3 ? "1.1" : "0.10");
    data.set("compression-type", compression_type_name(h));
    if (h.version >= 3) data.set("lazy-refcounts", h.lazy_refcounts());
    data.set("refcount-bits", int64_t(h.refcount_bits()));
    if (h.version >= 3) {
        data.set("corrupt", h.corrupt() || q.corrupt());
        data.set("extended-l2", false);
    }
    Json spec = Json::object();
    spec.set("type", "qcow2");
    spec.set("data", std::move(data));
    return spec;
}

std::string date_text(uint32_t sec) {
    time_t t = time_t(sec);
    tm local{};
    localtime_r(&t, &local);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &local);
    return buf;
}

std::string snapshot_line(const qcow2::Snapshot& sn) {
    uint64_t secs = sn.vm_clock_nsec / 1000000000;
    char clock[64], icount[32] = "";
    std::snprintf(clock, sizeof clock, "%02d:%02d:%02d.%03d", int(secs / 3600), int((secs / 60) % 60),
                  int(secs % 60), int((sn.vm_clock_nsec / 1000000) % 1000));
    if (sn.icount) std::snprintf(icount, sizeof icount, "%" PRId64, int64_t(*sn.icount));
    char line[512];
    std::snprintf(line, sizeof line, "%-9s %-16s %8s%20s%13s%11s", sn.id.c_str(), sn.name.c_str(),
                  size_to_str(sn.vm_state_size).c_str(), date_text(sn.date_sec).c_str(), clock, icount);
    return line;
}

} // namespace

std::string snapshot_list_human(AsyncImage& image) {
    std::string out = "Snapshot list:\n";
    char head[128];
    std::snprintf(head, sizeof head, "%-10s%-17s%8s%20s%13s%11s", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK",
                  "ICOUNT");
    out += std::string(head) + "\n";
    if (Qcow2Image* q = as_qcow2(image))
        for (const qcow2::Snapshot& sn : q->snapshots()) out += snapshot_line(sn) + "\n";
    return out;
}

Json image_info_json(AsyncImage& image, const std::string& filename) {
    Facts f = facts_of(image, filename);
    Json info = Json::object();
    info.set("filename", filename);
    info.set("format", image.format_name());
    info.set("dirty-flag", f.dirty);
    info.set("actual-size", image.allocated_bytes());
    info.set("virtual-size", image.size());
    if (f.cluster_size) info.set("cluster-size", f.cluster_size);
    if (!f.backing.empty()) {
        info.set("backing-filename", f.backing);
        info.set("full-backing-filename", f.full_backing);
        if (!f.backing_format.empty()) info.set("backing-filename-format", f.backing_format);
    }
    Qcow2Image* q = as_qcow2(image);
    if (q && !q->snapshots().empty()) {
        Json list = Json::array();
        for (const qcow2::Snapshot& sn : q->snapshots()) {
            Json s = Json::object();
            s.set("id", sn.id);
            s.set("name", sn.name);
            s.set("vm-state-size", sn.vm_state_size);
            s.set("date-sec", int64_t(sn.date_sec));
            s.set("date-nsec", int64_t(sn.date_nsec));
            s.set("vm-clock-sec", int64_t(sn.vm_clock_nsec / 1000000000));
            s.set("vm-clock-nsec", int64_t(sn.vm_clock_nsec % 1000000000));
            if (sn.icount) s.set("icount", *sn.icount);
            list.push(std::move(s));
        }
        info.set("snapshots", std::move(list));
    }
    if (q) info.set("format-specific", format_specific(*q));
    return info;
}

std::string image_info_human(AsyncImage& image, const std::string& filename) {
    Facts f = facts_of(image, filename);
    std::string out = "image: " + filename + "\nfile format: " + image.format_name() + "\n";
    out += "virtual size: " + size_to_str(image.size()) + " (" + std::to_string(image.size()) + " bytes)\n";
    out += "disk size: " + size_to_str(image.allocated_bytes()) + "\n";
    if (f.cluster_size) out += "cluster_size: " + std::to_string(f.cluster_size) + "\n";
    if (f.dirty) out += "cleanly shut down: no\n";
    if (!f.backing.empty()) {
        out += "backing file: " + f.backing;
        if (f.backing != f.full_backing) out += " (actual path: " + f.full_backing + ")";
        out += "\n";
        if (!f.backing_format.empty()) out += "backing file format: " + f.backing_format + "\n";
    }
    Qcow2Image* q = as_qcow2(image);
    if (q && !q->snapshots().empty()) out += snapshot_list_human(image);
    if (q) {
        const qcow2::Header& h = q->header();
        out += "Format specific information:\n";
        out += std::string("    compat: ") + (h.version >= 3 ? "1.1" : "0.10") + "\n";
        out += std::string("    compression type: ") + compression_type_name(h) + "\n";
        if (h.version >= 3) out += std::string("    lazy refcounts: ") + (h.lazy_refcounts() ? "true" : "false") + "\n";
        out += "    refcount bits: " + std::to_string(h.refcount_bits()) + "\n";
        if (h.version >= 3) {
            out += std::string("    corrupt: ") + (h.corrupt() || q->corrupt() ? "true" : "false") + "\n";
            out += "    extended l2: false\n";
        }
    }
    return out;
}

} // namespace kestrel::img
