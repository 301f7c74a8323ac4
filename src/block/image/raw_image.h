#pragma once
// A raw image as an AsyncImage: the backing file of a qcow2 image, the
// source or target of kestrel-img. (Devices on a raw -drive use RawBackend,
// which needs no task machinery.)
#include "block/block_backend.h"
#include "block/async/file_io.h"
#include "block/image/async_image.h"
#include "block/image_file.h"

namespace kestrel {

class RawImage final : public AsyncImage {
public:
    RawImage(AioContext& ctx, std::string filename, ImageFile file, bool read_only, bool discard_unmap,
             CacheMode cache = CacheMode::Writeback);

    const std::string& filename() const override { return filename_; }
    const char* format_name() const override { return "raw"; }
    uint64_t size() const override { return file_.size; }
    bool read_only() const override { return read_only_; }
    uint64_t allocated_bytes() const override;

    Task<int> read(uint64_t offset, std::vector<iovec> iov) override;
    Task<int> write(uint64_t offset, std::vector<iovec> iov) override;
    Task<int> write_zeroes(uint64_t offset, uint64_t length, bool may_unmap) override;
    Task<int> discard(uint64_t offset, uint64_t length) override;
    Task<int> flush() override;
    Task<BlockStatus> block_status(uint64_t offset, uint64_t max_length) override;
    bool enable_direct_lane(unsigned depth) override;

    // kestrel-img resize: a new length for the file.
    int truncate(uint64_t size);
    int fd() const { return file_.fd.get(); }

private:
    AsyncFile io() const;

    AioContext& ctx_;
    std::string filename_;
    ImageFile file_;
    bool read_only_;
    bool discard_unmap_;
    CacheMode cache_;
    std::unique_ptr<DirectLane> lane_;
};

} // namespace kestrel
