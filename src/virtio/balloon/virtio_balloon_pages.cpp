// The inflate and deflate queues (lists of 4 KiB page numbers) and free
// page reports: what the guest gives up goes back to the host.
#include "virtio/balloon/virtio_balloon.h"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace kestrel {

using namespace virtio_balloon;

void VirtioBalloon::log_once(bool& logged, const std::string& what) {
    if (logged) return;
    logged = true;
    spdlog::debug("{}: {}", name(), what);
}

// The little-endian u32s of the device-readable buffers, read as QEMU does
// across buffer boundaries (a trailing partial one is ignored). A list with
// more entries than guest RAM has pages can only repeat or invent pages:
// the rest of it is ignored.
std::vector<uint32_t> VirtioBalloon::read_pfns(const VirtqueueChain& chain) {
    const uint64_t limit = memory_->ram_size() >> kPageShift;
    std::vector<uint32_t> pfns;
    uint8_t partial[4];
    unsigned have = 0;
    for (const iovec& buf : chain.readable_buffers()) {
        const auto* bytes = static_cast<const uint8_t*>(buf.iov_base);
        for (size_t i = 0; i < buf.iov_len; ++i) {
            partial[have++] = bytes[i];
            if (have < 4) continue;
            have = 0;
            if (pfns.size() == limit) {
                log_once(logged_too_many_, fmt::format("a page list longer than guest RAM ({} pages); "
                                                       "the rest is ignored", limit));
                return pfns;
            }
            uint32_t pfn;
            std::memcpy(&pfn, partial, 4);
            pfns.push_back(pfn);
        }
    }
    return pfns;
}

uint8_t* VirtioBalloon::page_or_log(uint32_t pfn) {
    uint8_t* page = memory_->host_ptr(uint64_t(pfn) << kPageShift, kPageSize);
    if (!page) log_once(logged_bad_pfn_, fmt::format("page {:#x} is not guest RAM; ignored", pfn));
    return page;
}

namespace {

// Sorted, each page once; true when there were repeats.
bool sort_unique(std::vector<uint32_t>& pfns) {
    std::sort(pfns.begin(), pfns.end());
    auto end = std::unique(pfns.begin(), pfns.end());
    bool repeats = end != pfns.end();
    pfns.erase(end, pfns.end());
    return repeats;
}

} // namespace

// Each page the guest put in the balloon goes back to the host; pages that
// lie next to each other in the host mapping go in one call.
void VirtioBalloon::inflate(std::span<const uint32_t> list) {
    std::vector<uint32_t> pfns(list.begin(), list.end());
    if (sort_unique(pfns)) log_once(logged_duplicate_, "a page list names a page twice; done once");
    if (memory_->page_size() != kPageSize) return give_back_huge_pages(pfns);
    uint8_t* run = nullptr;
    uint64_t run_len = 0;
    for (uint32_t pfn : pfns) {
        uint8_t* page = page_or_log(pfn);
        if (!page) continue;
        if (run && page == run + run_len) {
            run_len += kPageSize;
            continue;
        }
        if (run) memory_->discard(run, run_len);
        run = page;
        run_len = kPageSize;
    }
    if (run) memory_->discard(run, run_len);
}

// RAM on huge pages (hugetlbfs): as QEMU, a huge page goes back only once
// one request has put every 4 KiB piece of it in the balloon.
void VirtioBalloon::give_back_huge_pages(std::span<const uint32_t> pfns) {
    if (!logged_huge_pages_) {
        logged_huge_pages_ = true;
        spdlog::warn("{}: Balloon used with backing page size > 4kiB, this may not be reliable", name());
    }
    const uint64_t host_page = memory_->page_size();
    const uint64_t pieces = host_page / kPageSize;
    uintptr_t current = 0;
    uint64_t count = 0;
    for (uint32_t pfn : pfns) {
        uint8_t* page = page_or_log(pfn);
        if (!page) continue;
        const uintptr_t base = reinterpret_cast<uintptr_t>(page) & ~uintptr_t(host_page - 1);
        count = base == current ? count + 1 : 1;
        current = base;
        if (count == pieces) memory_->discard(reinterpret_cast<uint8_t*>(base), host_page);
    }
}

// Deflated pages come back by themselves when the guest touches them. QEMU
// also hints MADV_WILLNEED, which does nothing for anonymous RAM and would
// only read the holes of a file: the list is checked, nothing more.
void VirtioBalloon::deflate(std::span<const uint32_t> list) {
    for (uint32_t pfn : list) page_or_log(pfn);
}

// VIRTIO_BALLOON_F_REPORTING: each device-writable buffer is a free range
// of guest RAM. As QEMU, ranges not made of whole backing pages are
// skipped, and nothing is discarded while the guest poisons free pages
// (they must keep their poison value).
void VirtioBalloon::report_free_pages(const VirtqueueChain& chain) {
    if (features_ >> kFPagePoison & 1) {
        std::lock_guard guard(lock_);
        if (state_.poison_val != 0) return;
    }
    const uint64_t mask = memory_->page_size() - 1;
    for (const iovec& buf : chain.writable_buffers()) {
        auto* start = static_cast<uint8_t*>(buf.iov_base);
        if (((reinterpret_cast<uintptr_t>(start) | buf.iov_len) & mask) != 0) {
            log_once(logged_bad_report_, fmt::format("a free page report of {:#x} bytes is not made of "
                                                     "whole {} KiB pages; ignored", buf.iov_len,
                                                     memory_->page_size() >> 10));
            continue;
        }
        memory_->discard(start, buf.iov_len);
    }
}

} // namespace kestrel
