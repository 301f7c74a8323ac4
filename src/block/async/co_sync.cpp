#include "block/async/co_sync.h"

namespace kestrel {

namespace {

struct JoinState {
    size_t left = 0;
    int result = 0;
    WaitQueue done;
};

} // namespace

Task<int> when_all(AioContext& ctx, std::vector<Task<int>> tasks) {
    if (tasks.empty()) co_return 0;
    if (tasks.size() == 1) co_return co_await tasks.front();
    auto state = std::make_shared<JoinState>();
    state->left = tasks.size();
    for (Task<int>& t : tasks) {
        spawn(std::move(t), [state, &ctx](int r) {
            if (r < 0 && state->result == 0) state->result = r;
            if (--state->left == 0) state->done.wake_all(ctx);
        });
    }
    if (state->left > 0) co_await state->done.wait();
    co_return state->result;
}

} // namespace kestrel
