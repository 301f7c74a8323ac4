// kestrel-img convert [-U] [-c] [-p] [-q] [-n] [-W] [-f fmt] [-t cache] [-T src_cache] [-O output_fmt]
//     [-B backing_file [-F backing_fmt]] [-o options] [-S sparse_size] [-m num_coroutines]
//     [--target-is-zero] filename [filename2 [...]] output_filename
//
// Several chunks are read at once (-m, default 8); writes start in order
// unless -W (a qcow2 target takes its clusters in guest order) and then run
// side by side. Ranges the source chain leaves unallocated or zero are not
// written to a new target (it reads as zeros already), and within data,
// runs of zeros of at least -S bytes (default 4 KiB) are skipped too.
#include "block/async/buffer.h"
#include "block/async/co_sync.h"
#include "block/async/iov.h"
#include "block/qcow2/qcow2_image.h"
#include "img/chain_status.h"
#include "img/create_options.h"
#include "img/img_commands.h"
#include "img/img_common.h"

#include <cstdio>
#include <memory>

namespace kestrel::img {

namespace {

enum { kOptTargetIsZero = 256 };

constexpr uint64_t kChunk = 2u << 20;

struct Settings {
    std::vector<std::string> sources;
    std::string target, source_format, target_format = "raw", backing, backing_format, options_text;
    bool compress = false, progress = false, quiet = false, no_create = false, out_of_order = false;
    bool force_share = false, target_is_zero = false;
    uint64_t sparse = 4096;
    unsigned workers = 8;
    CacheMode cache = CacheMode::Unsafe, source_cache = CacheMode::Writeback;
};

class Converter {
public:
    Converter(AioContext& ctx, std::vector<std::unique_ptr<AsyncImage>>& sources, AsyncImage& target,
              const Settings& s, Progress& progress)
        : ctx_(ctx), sources_(sources), target_(target), s_(s), progress_(progress) {
        for (auto& src : sources_) total_ += src->size();
        target_zero_ = (!s.no_create || s.target_is_zero) && s.backing.empty();
        auto* q = dynamic_cast<Qcow2Image*>(&target_);
        cluster_ = q ? q->geometry().cluster_size() : 512;
    }

    Task<int> run() {
        std::vector<Task<int>> workers;
        for (unsigned i = 0; i < std::max(1u, s_.workers); i++) workers.push_back(worker());
        co_return co_await when_all(ctx_, std::move(workers));
    }

private:
    struct Write {
        uint64_t offset, length;
        bool zero;
        uint64_t buffer_offset;
    };

    Task<int> worker() {
        Buffer buf(kChunk);
        while (error_ == 0 && next_ < total_) {
            // Take the next chunk (within one source file).
            uint64_t off = next_, base = 0;
            size_t index = 0;
            while (off >= base + sources_[index]->size()) base += sources_[index++]->size();
            uint64_t len = std::min(kChunk, base + sources_[index]->size() - off);
            next_ += len;
            uint64_t seq = seq_next_++;
            std::vector<Write> writes;
            int r = co_await plan(*sources_[index], off - base, off, len, buf, writes);
            if (!s_.out_of_order)
                while (turn_ != seq && error_ == 0) co_await turn_changed_.wait();
            auto started = std::make_shared<Started>();
            if (r == 0 && error_ == 0) {
                if (s_.compress)
                    r = co_await apply_compressed(writes, buf);
                else
                    start_writes(writes, buf, started);
            }
            if (!s_.out_of_order) {
                turn_ = seq + 1;
                turn_changed_.wake_all(ctx_);
            }
            if (started->left > 0) co_await started->done.wait();
            if (r == 0) r = started->result;
            if (r < 0 && error_ == 0) error_ = r;
            done_ += len;
            progress_.update(100.0 * double(done_) / double(total_));
        }
        turn_changed_.wake_all(ctx_);
        co_return error_;
    }

    // What [off, off + len) of the target gets: data read into buf, zeros.
    Task<int> plan(AsyncImage& src, uint64_t src_off, uint64_t off, uint64_t len, Buffer& buf,
                   std::vector<Write>& writes) {
        for (uint64_t pos = 0; pos < len;) {
            ChainStatus st;
            if (!s_.backing.empty()) {
                // Only the source's top layer: what lies below it is the
                // target's backing file's to show (as qemu-img -B assumes).
                BlockStatus top = co_await src.block_status(src_off + pos, len - pos);
                st.length = top.length;
                st.present = top.kind != BlockStatus::Unallocated;
                st.zero = top.kind == BlockStatus::Zero;
                st.data = top.kind == BlockStatus::Data;
            } else {
                st = co_await chain_status(src, src_off + pos, len - pos);
            }
            if (st.length == 0) co_return -EIO;
            if (!st.present && !s_.backing.empty()) {
                pos += st.length;
                continue;
            }
            if (st.zero && !st.data && s_.sparse) {
                if (!target_zero_) writes.push_back({off + pos, st.length, true, 0});
                pos += st.length;
                continue;
            }
            std::vector<iovec> iov{buf.iov(size_t(pos), size_t(st.length))};
            int r = co_await src.read(src_off + pos, std::move(iov));
            if (r < 0) co_return r;
            add_data(off + pos, pos, st.length, buf, writes);
            pos += st.length;
        }
        co_return 0;
    }

    // Splits read data into runs of data and of zeros (-S bytes at least).
    void add_data(uint64_t off, uint64_t buf_off, uint64_t len, Buffer& buf, std::vector<Write>& writes) {
        uint64_t unit = s_.compress ? cluster_ : s_.sparse;
        if (unit == 0) {
            writes.push_back({off, len, false, buf_off});
            return;
        }
        for (uint64_t p = 0; p < len;) {
            uint64_t n = std::min(unit - (off + p) % unit, len - p);
            bool zero = buffer_is_zero(buf.data() + buf_off + p, n);
            if (!writes.empty() && writes.back().zero == zero && writes.back().offset + writes.back().length == off + p &&
                (zero || writes.back().buffer_offset + writes.back().length == buf_off + p))
                writes.back().length += n;
            else
                writes.push_back({off + p, n, zero, buf_off + p});
            p += n;
        }
        if (target_zero_) std::erase_if(writes, [](const Write& w) { return w.zero; });
    }

    // The writes of one chunk, started and not yet completed.
    struct Started {
        size_t left = 0;
        int result = 0;
        WaitQueue done;
    };

    // Starts the chunk's writes in order; each runs until it first waits, so
    // a qcow2 target has taken its clusters (in guest order: contiguous runs)
    // before the next chunk's turn, while the copies of several chunks
    // overlap. The caller waits on `started` before reusing buf.
    void start_writes(const std::vector<Write>& writes, Buffer& buf, const std::shared_ptr<Started>& started) {
        for (const Write& w : writes) {
            Task<int> t = w.zero ? target_.write_zeroes(w.offset, w.length, true)
                                 : target_.write(w.offset, {buf.iov(size_t(w.buffer_offset), size_t(w.length))});
            started->left++;
            spawn(std::move(t), [started, this](int r) {
                if (r < 0 && started->result == 0) started->result = r;
                if (--started->left == 0) started->done.wake_all(ctx_);
            });
        }
    }

    // Compressed clusters are appended one by one, each awaited.
    Task<int> apply_compressed(const std::vector<Write>& writes, Buffer& buf) {
        for (const Write& w : writes) {
            int r = w.zero ? co_await target_.write_zeroes(w.offset, w.length, true) : co_await write_compressed(w, buf);
            if (r < 0) co_return r;
        }
        co_return 0;
    }

    Task<int> write_compressed(const Write& w, Buffer& buf) {
        auto& q = static_cast<Qcow2Image&>(target_);
        for (uint64_t p = 0; p < w.length;) {
            uint64_t at = w.offset + p;
            uint64_t n = std::min(cluster_ - at % cluster_, w.length - p);
            if (at % cluster_ || n < cluster_) {
                if (at % cluster_ == 0 && at + n == target_.size()) {  // the last, short cluster
                    std::vector<uint8_t> c(cluster_, 0);
                    std::memcpy(c.data(), buf.data() + w.buffer_offset + p, n);
                    int r = co_await q.write_compressed(at, std::move(c));
                    if (r < 0) co_return r;
                } else {
                    std::vector<iovec> iov{buf.iov(size_t(w.buffer_offset + p), size_t(n))};
                    int r = co_await target_.write(at, std::move(iov));
                    if (r < 0) co_return r;
                }
            } else {
                std::vector<uint8_t> c(buf.data() + w.buffer_offset + p, buf.data() + w.buffer_offset + p + n);
                int r = co_await q.write_compressed(at, std::move(c));
                if (r < 0) co_return r;
            }
            p += n;
        }
        co_return 0;
    }

    AioContext& ctx_;
    std::vector<std::unique_ptr<AsyncImage>>& sources_;
    AsyncImage& target_;
    const Settings& s_;
    Progress& progress_;
    uint64_t total_ = 0, next_ = 0, done_ = 0, cluster_ = 512;
    uint64_t seq_next_ = 0, turn_ = 0;
    WaitQueue turn_changed_;
    bool target_zero_ = true;
    int error_ = 0;
};

Settings parse(int argc, char** argv) {
    Settings s;
    std::vector<std::string> operands = parse_options(
        argc, argv, "hf:O:B:CcF:o:l:S:pt:T:qnm:WUr:",
        {{"help", no_argument, 'h'},
         {"force-share", no_argument, 'U'},
         {"target-is-zero", no_argument, kOptTargetIsZero}},
        [&](int c, const char* arg) {
            std::string a = arg ? arg : "";
            switch (c) {
            case 'h': print_help_and_exit();
            case 'f': s.source_format = a; break;
            case 'O': s.target_format = a; break;
            case 'B': s.backing = a; break;
            case 'F': s.backing_format = a; break;
            case 'c': s.compress = true; break;
            case 'C': fail("Copy offloading (-C) is not supported by kestrel-img");
            case 'o':
                if (!s.options_text.empty()) s.options_text += ",";
                s.options_text += a;
                break;
            case 'l': fail("Converting from internal snapshots (-l) is not supported by kestrel-img");
            case 'S': {
                uint64_t v = 0;
                if (!parse_size(a, v) || v > kChunk || v % 512)
                    fail("Invalid buffer size for sparse output specified. Valid sizes are multiples of 512 up to "
                         "2097152. Select 0 to disable sparse detection (fully allocates output).");
                s.sparse = v;
                break;
            }
            case 'p': s.progress = true; break;
            case 't': s.cache = parse_cache(a, false); break;
            case 'T': s.source_cache = parse_cache(a, true); break;
            case 'q': s.quiet = true; break;
            case 'n': s.no_create = true; break;
            case 'm': {
                char* end = nullptr;
                long n = std::strtol(a.c_str(), &end, 10);
                if (a.empty() || *end || n < 1 || n > 16)
                    fail("Invalid number of coroutines. Allowed number of coroutines is between 1 and 16");
                s.workers = unsigned(n);
                break;
            }
            case 'W': s.out_of_order = true; break;
            case 'U': s.force_share = true; break;
            case 'r': fail("Rate limits (-r) are not supported by kestrel-img");
            case kOptTargetIsZero: s.target_is_zero = true; break;
            }
        });
    if (operands.size() < 2) fail("Must specify image file name");
    s.target = operands.back();
    operands.pop_back();
    s.sources = std::move(operands);
    if (s.quiet) s.progress = false;
    return s;
}

} // namespace

int cmd_convert(int argc, char** argv) {
    Settings s = parse(argc, argv);
    if (!known_format(s.target_format)) fail("Unknown file format '" + s.target_format + "'");
    if (s.compress && s.target_format != "qcow2") fail("Compression not supported for this file format");
    if (!s.backing_format.empty() && s.backing.empty()) usage_error("Backing file format specified without backing file (-B)");
    if (s.target_is_zero && !s.no_create) fail("--target-is-zero requires use of -n flag");
    AioContext ctx;
    // The page-cache copies of reads and writes are most of convert's time:
    // on io-wq workers they use every CPU instead of this thread's.
    ctx.set_run_in_workers(true);
    std::vector<std::unique_ptr<AsyncImage>> sources;
    for (const std::string& path : s.sources) {
        OpenRequest r;
        r.path = path;
        r.format = s.source_format;
        r.force_share = s.force_share;
        r.cache = s.source_cache;
        sources.push_back(open_for_command(ctx, r));
    }
    uint64_t total = 0;
    for (auto& src : sources) total += src->size();
    if (!s.no_create) {
        CreateRequest c;
        c.filename = s.target;
        c.format = s.target_format;
        c.quiet = true;
        c.unsafe_backing = true;
        parse_create_options(s.options_text, c.options);
        if (c.options.count("help")) {
            print_create_help(s.target_format);
            return 0;
        }
        c.options["size"] = std::to_string(total);
        if (!s.backing.empty()) c.options["backing_file"] = s.backing;
        if (!s.backing_format.empty()) c.options["backing_fmt"] = s.backing_format;
        create_image(std::move(c));
    }
    OpenRequest t;
    t.path = s.target;
    t.format = s.no_create ? "" : s.target_format;
    t.writable = true;
    t.cache = s.cache;
    t.open_backing = false;
    std::unique_ptr<AsyncImage> target = open_for_command(ctx, t);
    if (s.no_create && target->size() < total) fail("Target image is smaller than the source");
    // A buffered raw target: up to two data writes at a time go to the device
    // directly, beside the page-cache copies of the others (DirectLane). Not
    // for qcow2, whose data writes extend the file: O_DIRECT appends on ext4
    // made raw->qcow2 slower (bench/RESULTS.md, 2026-12-06).
    target->enable_direct_lane(2);
    Progress progress(s.progress, 1.0);
    progress.update(0);
    Converter conv(ctx, sources, *target, s, progress);
    int r = ctx.run(conv.run());
    int closed = ctx.run(target->close());
    progress.update(100);
    progress.finish();
    if (r < 0) fail("error while writing at byte: " + errno_text(r));
    if (closed < 0) fail("error while closing the target: " + errno_text(closed));
    return 0;
}

} // namespace kestrel::img
