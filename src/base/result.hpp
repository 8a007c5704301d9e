// base/result.hpp — a small expected-like Result<T, E>.
//
// Contract: a Result holds either a value of T or an error of E, never both.
// Accessing the wrong alternative is a programming error (asserted in debug
// builds). g++ 12 in C++20 mode has no std::expected, hence this type.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace uinet {

template <class E>
struct Err {
    constexpr explicit Err(E e) : error(std::move(e)) {}
    E error;
};
template <class E>
Err(E) -> Err<E>;

template <class T, class E>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
    template <class E2>
    Result(Err<E2> e) : v_(std::in_place_index<1>, E(std::move(e.error))) {}  // NOLINT

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & { assert(ok()); return *std::get_if<0>(&v_); }
    const T& value() const& { assert(ok()); return *std::get_if<0>(&v_); }
    T&& value() && { assert(ok()); return std::move(*std::get_if<0>(&v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }

    const E& error() const { assert(!ok()); return *std::get_if<1>(&v_); }

    T value_or(T fallback) const { return ok() ? value() : std::move(fallback); }

private:
    std::variant<T, E> v_;
};

template <class E>
class [[nodiscard]] Result<void, E> {
public:
    Result() = default;
    template <class E2>
    Result(Err<E2> e) : err_(E(std::move(e.error))), has_err_(true) {}  // NOLINT

    bool ok() const noexcept { return !has_err_; }
    explicit operator bool() const noexcept { return ok(); }
    const E& error() const { assert(has_err_); return err_; }

private:
    E err_{};
    bool has_err_ = false;
};

}  // namespace uinet
