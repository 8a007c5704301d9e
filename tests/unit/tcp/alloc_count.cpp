// Counting operator new for the unit_tcp binary (shared with unit_base).
#include "unit/base/alloc_count.cpp"
