#include "ui/surface.h"

#include <new>
#include <sys/mman.h>

namespace kestrel {

std::shared_ptr<uint32_t[]> Surface::allocate(size_t count) {
    size_t bytes = count * sizeof(uint32_t);
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return std::shared_ptr<uint32_t[]>(static_cast<uint32_t*>(p), [bytes](uint32_t* q) { munmap(q, bytes); });
}

} // namespace kestrel
