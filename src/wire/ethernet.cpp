// wire/ethernet.cpp — Ethernet II header parse/emit.
#include "wire/ethernet.hpp"

namespace uinet::wire {

Result<void, ParseError> EthernetView::check_len() const {
    if (b_.size() < kEthHeaderLen) return Err{ParseError::truncated};
    return {};
}

Result<EthernetRepr, ParseError> EthernetRepr::parse(Bytes frame) {
    EthernetView v(frame);
    if (auto r = v.check_len(); !r) return Err{r.error()};
    return EthernetRepr{v.dst(), v.src(), v.ethertype()};
}

void EthernetRepr::emit(MutBytes out) const {
    dst.to_bytes(out.data());
    src.to_bytes(out.data() + 6);
    store_be16(out.data() + 12, ethertype);
}

}  // namespace uinet::wire
