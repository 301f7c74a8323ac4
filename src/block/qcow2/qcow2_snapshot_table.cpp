// The snapshot table: one entry per internal snapshot, each 8-byte aligned:
// a 40-byte header, extra data (vm_state_size_large, disk_size, icount),
// the id string and the name.
#include "block/qcow2/qcow2_format.h"

#include <cerrno>

namespace kestrel::qcow2 {

namespace {

constexpr size_t kEntryHeader = 40;
constexpr size_t kKnownExtra = 24;

uint64_t align8(uint64_t v) { return (v + 7) & ~uint64_t(7); }

[[noreturn]] void fail(const std::string& what, int err = EINVAL) { throw FormatError(what, err); }

std::string take_string(std::span<const uint8_t> table, uint64_t& offset, uint32_t len) {
    std::string s(reinterpret_cast<const char*>(table.data() + offset), len);
    offset += len;
    return s;
}

void read_extra(Snapshot& sn, std::span<const uint8_t> extra) {
    if (extra.size() >= 8) sn.vm_state_size = be64(&extra[0]);
    if (extra.size() >= 16) sn.disk_size = be64(&extra[8]);
    if (extra.size() >= 24) {
        uint64_t icount = be64(&extra[16]);
        if (icount != UINT64_MAX) sn.icount = icount;
    }
    if (extra.size() > kKnownExtra) sn.unknown_extra.assign(extra.begin() + kKnownExtra, extra.end());
}

} // namespace

uint64_t snapshot_entry_size(std::span<const uint8_t> head) {
    if (head.size() < kEntryHeader) return kEntryHeader;
    return align8(kEntryHeader + be32(&head[36]) + be16(&head[12]) + be16(&head[14]));
}

std::vector<Snapshot> parse_snapshot_table(std::span<const uint8_t> table, uint32_t nb_snapshots,
                                           uint32_t) {
    std::vector<Snapshot> out;
    uint64_t offset = 0;
    for (uint32_t i = 0; i < nb_snapshots; i++) {
        offset = align8(offset);
        if (offset + kEntryHeader > table.size()) fail("Failed to read snapshot table");
        const uint8_t* p = table.data() + offset;
        Snapshot sn;
        sn.l1_table_offset = be64(p);
        sn.l1_size = be32(p + 8);
        uint16_t id_size = be16(p + 12), name_size = be16(p + 14);
        sn.date_sec = be32(p + 16);
        sn.date_nsec = be32(p + 20);
        sn.vm_clock_nsec = be64(p + 24);
        sn.vm_state_size = be32(p + 32);
        uint32_t extra_size = be32(p + 36);
        offset += kEntryHeader;
        if (extra_size > kMaxSnapshotExtraData)
            fail("Too much extra metadata in snapshot table entry " + std::to_string(i) +
                     "\nYou can force-remove this extra metadata with qemu-img check -r all",
                 EFBIG);
        if (offset + extra_size + id_size + name_size > table.size()) fail("Failed to read snapshot table");
        read_extra(sn, table.subspan(offset, extra_size));
        offset += extra_size;
        sn.id = take_string(table, offset, id_size);
        sn.name = take_string(table, offset, name_size);
        if (offset > kMaxSnapshotTableBytes) fail("Snapshot table is too big", EFBIG);
        out.push_back(std::move(sn));
    }
    return out;
}

std::vector<uint8_t> encode_snapshot_table(const std::vector<Snapshot>& snapshots, uint32_t) {
    std::vector<uint8_t> out;
    for (const Snapshot& sn : snapshots) {
        out.resize(align8(out.size()), 0);
        size_t at = out.size();
        uint32_t extra_size = uint32_t(kKnownExtra + sn.unknown_extra.size());
        out.resize(at + kEntryHeader + extra_size, 0);
        uint8_t* p = &out[at];
        put_be64(p, sn.l1_table_offset);
        put_be32(p + 8, sn.l1_size);
        put_be16(p + 12, uint16_t(sn.id.size()));
        put_be16(p + 14, uint16_t(sn.name.size()));
        put_be32(p + 16, sn.date_sec);
        put_be32(p + 20, sn.date_nsec);
        put_be64(p + 24, sn.vm_clock_nsec);
        put_be32(p + 32, uint32_t(std::min<uint64_t>(sn.vm_state_size, UINT32_MAX)));
        put_be32(p + 36, extra_size);
        put_be64(p + 40, sn.vm_state_size);
        put_be64(p + 48, sn.disk_size.value_or(0));
        put_be64(p + 56, sn.icount.value_or(UINT64_MAX));
        std::copy(sn.unknown_extra.begin(), sn.unknown_extra.end(), out.begin() + long(at + kEntryHeader + kKnownExtra));
        out.insert(out.end(), sn.id.begin(), sn.id.end());
        out.insert(out.end(), sn.name.begin(), sn.name.end());
    }
    out.resize(align8(out.size()), 0);
    return out;
}

} // namespace kestrel::qcow2
