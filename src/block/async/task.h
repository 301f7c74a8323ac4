#pragma once
// Task<T>: a lazily started C++20 coroutine that a caller co_awaits; it
// resumes the caller when it ends (symmetric transfer, so chains of tasks
// that finish without waiting do not grow the stack). spawn() starts a task
// that nobody awaits and hands its result to a callback.
//
// Image code (qcow2, backing chains, kestrel-img) is written as tasks over
// an AioContext; errors are results (-errno), exceptions only escape for
// bugs and allocation failures.
#include <coroutine>
#include <exception>
#include <functional>
#include <optional>
#include <utility>

namespace kestrel {

namespace detail {

struct PromiseBase {
    std::coroutine_handle<> continuation = std::noop_coroutine();
    std::exception_ptr exception;

    std::suspend_always initial_suspend() noexcept { return {}; }
    struct FinalAwaiter {
        bool await_ready() noexcept { return false; }
        template <typename P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
            return h.promise().continuation;
        }
        void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }
    void unhandled_exception() { exception = std::current_exception(); }
};

} // namespace detail

template <typename T = void>
class [[nodiscard]] Task {
public:
    struct promise_type : detail::PromiseBase {
        std::optional<T> value;
        Task get_return_object() { return Task(std::coroutine_handle<promise_type>::from_promise(*this)); }
        template <typename U>
        void return_value(U&& v) { value.emplace(std::forward<U>(v)); }
    };

    Task(Task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
    Task& operator=(Task&& other) noexcept {
        if (this != &other) {
            if (h_) h_.destroy();
            h_ = std::exchange(other.h_, {});
        }
        return *this;
    }
    ~Task() {
        if (h_) h_.destroy();
    }

    // co_await task: starts it; the caller goes on when it ends. The
    // awaiter holds only the handle (the task itself is never copied).
    struct Awaiter {
        std::coroutine_handle<promise_type> h;
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
            h.promise().continuation = caller;
            return h;
        }
        T await_resume() {
            if (h.promise().exception) std::rethrow_exception(h.promise().exception);
            return std::move(*h.promise().value);
        }
    };
    Awaiter operator co_await() & noexcept { return {h_}; }
    Awaiter operator co_await() && noexcept { return {h_}; }

private:
    explicit Task(std::coroutine_handle<promise_type> h) : h_(h) {}
    std::coroutine_handle<promise_type> h_;
};

template <>
class [[nodiscard]] Task<void> {
public:
    struct promise_type : detail::PromiseBase {
        Task get_return_object() { return Task(std::coroutine_handle<promise_type>::from_promise(*this)); }
        void return_void() {}
    };

    Task(Task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
    Task& operator=(Task&& other) noexcept {
        if (this != &other) {
            if (h_) h_.destroy();
            h_ = std::exchange(other.h_, {});
        }
        return *this;
    }
    ~Task() {
        if (h_) h_.destroy();
    }

    struct Awaiter {
        std::coroutine_handle<promise_type> h;
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
            h.promise().continuation = caller;
            return h;
        }
        void await_resume() {
            if (h.promise().exception) std::rethrow_exception(h.promise().exception);
        }
    };
    Awaiter operator co_await() & noexcept { return {h_}; }
    Awaiter operator co_await() && noexcept { return {h_}; }

private:
    explicit Task(std::coroutine_handle<promise_type> h) : h_(h) {}
    std::coroutine_handle<promise_type> h_;
};

namespace detail {

// A coroutine that starts at once and frees itself when it ends.
struct Detached {
    struct promise_type {
        Detached get_return_object() { return {}; }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() {}
        void unhandled_exception() { std::terminate(); }
    };
};

template <typename T, typename F>
Detached run_detached(Task<T> task, F done) {
    done(co_await task);
}

template <typename F>
Detached run_detached_void(Task<void> task, F done) {
    co_await task;
    done();
}

} // namespace detail

// Starts `task` now; it runs until it first waits. `done(result)` runs when
// it ends (on whichever thread resumed it last: the AioContext's).
template <typename T, typename F>
void spawn(Task<T> task, F done) {
    detail::run_detached(std::move(task), std::move(done));
}

template <typename F>
void spawn(Task<void> task, F done) {
    detail::run_detached_void(std::move(task), std::move(done));
}

} // namespace kestrel
