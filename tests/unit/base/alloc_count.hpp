// Counts heap allocations made through the global operator new in this test
// binary (alloc_count.cpp replaces it), to check "no allocation" contracts.
#pragma once

#include <cstddef>

namespace uinet_test {

std::size_t allocation_count();

}  // namespace uinet_test
