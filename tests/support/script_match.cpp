// tests/support/script_match.cpp — decoding transmitted frames (with every
// checksum verified), their one-line rendering, and matching against a
// PacketSpec.
//
// Decoding never trusts the frame: every parser is the wire layer's, with
// its length checks. A first fragment's L4 header is decoded without its
// checksum (the checksum covers the whole datagram: the Script verifies it
// after reassembling); later fragments carry no L4 header.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "script.hpp"
#include "wire/ethernet.hpp"

namespace uinet::test {

namespace {

std::string hex(std::uint64_t v, int width = 4) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%0*llx", width, static_cast<unsigned long long>(v));
    return b;
}

std::string bytes_preview(Bytes b) {
    bool printable = !b.empty() && b.size() <= 40 &&
                     std::all_of(b.begin(), b.end(), [](std::uint8_t c) { return c >= 0x20 && c < 0x7f && c != '"'; });
    if (printable) return "\"" + std::string(b.begin(), b.end()) + "\"";
    std::string s;
    for (std::size_t i = 0; i < b.size() && i < 16; ++i) {
        char x[4];
        std::snprintf(x, sizeof x, "%02x", b[i]);
        s += x;
    }
    if (b.size() > 16) s += "...";
    return s.empty() ? "(empty)" : s;
}

const char* l4_name(PacketSpec::L4 l) {
    switch (l) {
        case PacketSpec::L4::none: return "none";
        case PacketSpec::L4::udp: return "UDP";
        case PacketSpec::L4::tcp: return "TCP";
        case PacketSpec::L4::icmp: return "ICMP";
    }
    return "?";
}

std::string tcp_flags_text(std::uint8_t f) {
    static const char* letters = "FSRP.UEW";
    std::string s;
    for (int i = 0; i < 8; ++i)
        if (f & (1u << i)) s += letters[i];
    return "[" + (s.empty() ? std::string("none") : s) + "]";
}

std::string tcp_options_text(const wire::TcpOptions& o) {
    std::string s;
    auto add = [&](const std::string& x) { s += (s.empty() ? "" : ",") + x; };
    if (o.mss) add("mss " + std::to_string(*o.mss));
    if (o.sack_permitted) add("sackOK");
    if (o.timestamps) add("TS val " + std::to_string(o.timestamps->first) + " ecr " + std::to_string(o.timestamps->second));
    if (o.wscale) add("wscale " + std::to_string(*o.wscale));
    if (o.sack_count) {
        std::string b = "sack";
        for (std::size_t i = 0; i < o.sack_count; ++i)
            b += " " + std::to_string(o.sack[i].left.raw()) + ":" + std::to_string(o.sack[i].right.raw());
        add(b);
    }
    return s.empty() ? "" : " <" + s + ">";
}

// The quoted datagram of an ICMP error, briefly.
std::string quote_text(Bytes q) {
    if (q.size() < 20 || (q[0] >> 4) != 4) return " quote " + std::to_string(q.size()) + " bytes";
    std::size_t ihl = static_cast<std::size_t>(q[0] & 0x0f) * 4;
    std::ostringstream o;
    o << " quote{" << Ipv4Addr(load_be32(&q[12])).to_string() << " > " << Ipv4Addr(load_be32(&q[16])).to_string()
      << " proto=" << int{q[9]} << " id=" << load_be16(&q[4]);
    if (ihl >= 20 && q.size() >= ihl + 4 && (q[9] == wire::ip_proto::udp || q[9] == wire::ip_proto::tcp))
        o << " ports " << load_be16(&q[ihl]) << " > " << load_be16(&q[ihl + 2]);
    o << ", " << q.size() << " bytes}";
    return o.str();
}

}  // namespace

Bytes Decoded::ip_bytes() const {
    if (!ip) return {};
    return Bytes(bytes).subspan(ip_off, std::min<std::size_t>(ip->total_len(), bytes.size() - ip_off));
}

Bytes Decoded::tcp_option_bytes() const {
    if (l4 != PacketSpec::L4::tcp) return {};
    return Bytes(bytes).subspan(l4_off + 20, tcp.header_len - 20u);
}

Decoded decode(std::vector<std::uint8_t> frame) {
    Decoded d;
    d.bytes = std::move(frame);
    Bytes all(d.bytes);
    auto l2 = wire::parse_l2(all);
    if (!l2) {
        d.problems.push_back(std::string("L2: ") + wire::to_string(l2.error()));
        return d;
    }
    d.l2_ok = true;
    d.l2 = *l2;
    Bytes body = all.subspan(l2->header_len);
    d.payload_off = l2->header_len;
    d.payload_len = body.size();
    if (l2->ethertype == wire::ethertype::arp) {
        auto a = wire::ArpRepr::parse(body);
        if (!a) {
            d.problems.push_back(std::string("ARP: ") + wire::to_string(a.error()));
            return d;
        }
        d.arp = *a;
        d.payload_off += wire::kArpLen;
        d.payload_len -= wire::kArpLen;
        return d;
    }
    if (l2->ethertype != wire::ethertype::ipv4) return d;
    auto ip = wire::Ipv4Repr::parse(body, true);
    if (!ip && ip.error() == wire::ParseError::bad_checksum) {
        d.problems.push_back("bad IPv4 header checksum");
        ip = wire::Ipv4Repr::parse(body, false);
    }
    if (!ip) {
        d.problems.push_back(std::string("IPv4: ") + wire::to_string(ip.error()));
        return d;
    }
    d.ip = *ip;
    d.ip_off = l2->header_len;
    Bytes l4 = body.subspan(ip->header_len, ip->payload_len);
    d.l4_off = d.ip_off + ip->header_len;
    d.payload_off = d.l4_off;
    d.payload_len = l4.size();
    if (ip->frag_offset != 0) return d;  // no L4 header in this fragment
    const bool whole = !ip->more_frags;
    switch (ip->protocol) {
        case wire::ip_proto::udp: {
            if (l4.size() < 8) {
                d.problems.push_back("UDP: truncated");
                return d;
            }
            wire::UdpView v(l4);
            d.l4 = PacketSpec::L4::udp;
            d.udp = wire::UdpRepr{v.src_port(), v.dst_port(), v.length()};
            d.l4_csum = v.checksum();
            d.payload_off = d.l4_off + 8;
            d.payload_len = l4.size() - 8;
            if (whole) {
                auto u = wire::UdpRepr::parse(l4, ip->src, ip->dst, true);
                if (!u)
                    d.problems.push_back(std::string("UDP: ") + wire::to_string(u.error()));
                else
                    d.payload_len = u->payload_len();
            }
            return d;
        }
        case wire::ip_proto::tcp: {
            auto t = wire::TcpRepr::parse_unchecked(l4);
            if (!t) {
                d.problems.push_back(std::string("TCP: ") + wire::to_string(t.error()));
                return d;
            }
            d.l4 = PacketSpec::L4::tcp;
            d.tcp = *t;
            d.tcp_reserved = l4[12] & 0x0f;
            d.l4_csum = wire::TcpView(l4).checksum();
            d.payload_off = d.l4_off + t->header_len;
            d.payload_len = l4.size() - t->header_len;
            if (whole) {
                auto c = wire::TcpRepr::parse(l4, ip->src, ip->dst, true);
                if (!c) d.problems.push_back(std::string("TCP: ") + wire::to_string(c.error()));
            }
            return d;
        }
        case wire::ip_proto::icmp: {
            auto m = wire::Icmpv4Repr::parse(l4, whole);
            if (!m && m.error() == wire::ParseError::bad_checksum) {
                d.problems.push_back("ICMP: bad_checksum");
                m = wire::Icmpv4Repr::parse(l4, false);
            }
            if (!m) {
                d.problems.push_back(std::string("ICMP: ") + wire::to_string(m.error()));
                return d;
            }
            d.l4 = PacketSpec::L4::icmp;
            d.icmp = *m;
            d.l4_csum = load_be16(&l4[2]);
            d.payload_off = d.l4_off + 8;
            d.payload_len = l4.size() - 8;
            return d;
        }
        default: return d;
    }
}

std::string Decoded::line() const {
    std::ostringstream o;
    o << "#" << index << " " << format_time(at) << " ";
    if (!l2_ok) {
        o << "raw " << bytes.size() << " bytes " << bytes_preview(bytes);
    } else {
        o << l2.src.to_string() << " > " << l2.dst.to_string();
        if (!l2.vlans.empty()) o << " " << format_vlans({l2.vlans.begin(), l2.vlans.size()});
        if (arp) {
            const wire::ArpRepr& a = *arp;
            if (a.op == wire::arp_op::request)
                o << " ARP request who-has " << a.target_ip.to_string() << " tell " << a.sender_ip.to_string();
            else if (a.op == wire::arp_op::reply)
                o << " ARP reply " << a.sender_ip.to_string() << " is-at " << a.sender_mac.to_string();
            else
                o << " ARP op=" << a.op;
            o << " (sender " << a.sender_mac.to_string() << "/" << a.sender_ip.to_string() << ", target "
              << a.target_mac.to_string() << "/" << a.target_ip.to_string() << ")";
        } else if (ip) {
            const wire::Ipv4Repr& r = *ip;
            o << " IPv4 " << r.src.to_string() << " > " << r.dst.to_string() << " proto=" << int{r.protocol}
              << " id=" << r.ident << " ttl=" << int{r.ttl};
            if (r.tos) o << " tos=" << hex(r.tos, 2);
            o << " len=" << r.total_len();
            if (r.header_len != 20) o << " hl=" << r.header_len;
            if (r.dont_frag) o << " DF";
            if (r.is_fragment()) o << " frag off=" << r.frag_offset << (r.more_frags ? " MF" : "");
            switch (l4) {
                case PacketSpec::L4::none: o << " data=" << payload_len; break;
                case PacketSpec::L4::udp:
                    o << " UDP " << udp.src_port.value() << " > " << udp.dst_port.value() << " len=" << udp.length
                      << " payload=" << payload_len;
                    break;
                case PacketSpec::L4::tcp:
                    o << " TCP " << tcp.src_port.value() << " > " << tcp.dst_port.value() << " " << tcp_flags_text(tcp.flags)
                      << " seq=" << tcp.seq.raw() << " ack=" << tcp.ack.raw() << " win=" << tcp.window;
                    if (tcp.urgent) o << " urp=" << tcp.urgent;
                    if (tcp_reserved) o << " reserved=" << hex(tcp_reserved, 1);
                    o << " hl=" << tcp.header_len << tcp_options_text(tcp.options) << " payload=" << payload_len;
                    break;
                case PacketSpec::L4::icmp:
                    if (icmp.type == wire::icmpv4_type::echo_request || icmp.type == wire::icmpv4_type::echo_reply)
                        o << " ICMP " << (icmp.type ? "echo-request" : "echo-reply") << " id=" << icmp.echo_ident()
                          << " seq=" << icmp.echo_seq() << " payload=" << payload_len;
                    else
                        o << " ICMP type=" << int{icmp.type} << " code=" << int{icmp.code} << " rest=" << hex(icmp.rest, 8)
                          << (icmp.is_error() ? quote_text(payload()) : " payload=" + std::to_string(payload_len));
                    break;
            }
        } else {
            o << " ethertype=" << hex(l2.ethertype) << " payload=" << payload_len;
        }
    }
    for (const auto& p : problems) o << "  !! " << p;
    return o.str();
}

// ---- match ------------------------------------------------------------------

namespace {

struct Matcher {
    const Vars& vars;
    MatchResult& res;

    void miss(const std::string& field, const std::string& got, const std::string& want) {
        res.ok = false;
        res.why.push_back(field + ": got " + got + ", want " + want);
    }
    void val(const char* field, const std::optional<Val>& want, std::uint64_t got, std::uint64_t mask) {
        if (!want) return;
        switch (want->kind()) {
            case Val::Kind::wild: return;
            case Val::Kind::literal:
                if ((want->literal() & mask) != got) miss(field, std::to_string(got), std::to_string(want->literal() & mask));
                return;
            case Val::Kind::capture: res.bound[want->name()] = got; return;
            case Val::Kind::var: {
                std::optional<std::uint64_t> base;
                if (auto it = res.bound.find(want->name()); it != res.bound.end())
                    base = it->second;
                else if (auto jt = vars.find(want->name()); jt != vars.end())
                    base = jt->second;
                if (!base) {
                    if (res.script_error.empty()) res.script_error = std::string(field) + ": undefined variable " + want->describe();
                    miss(field, std::to_string(got), want->describe() + " (undefined)");
                    return;
                }
                std::uint64_t w = (*base + static_cast<std::uint64_t>(want->offset())) & mask;
                if (w != got) miss(field, std::to_string(got), std::to_string(w) + " (" + want->describe() + ")");
                return;
            }
        }
    }
    template <class T>
    void eq(const char* field, const std::optional<T>& want, const T& got) {
        if (want && !(*want == got)) miss(field, got.to_string(), want->to_string());
    }
    void bytes(const char* field, Bytes got, Bytes want) {
        if (std::equal(got.begin(), got.end(), want.begin(), want.end())) return;
        std::size_t i = 0;
        while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
        miss(field, std::to_string(got.size()) + " bytes " + bytes_preview(got),
             std::to_string(want.size()) + " bytes " + bytes_preview(want) + " (first difference at " + std::to_string(i) + ")");
    }
};

}  // namespace

MatchResult match(const PacketSpec& p, const Decoded& d, const Vars& vars) {
    using K = PacketSpec::Kind;
    using L4 = PacketSpec::L4;
    MatchResult res;
    Matcher m{vars, res};
    if (p.kind_ == K::raw) {
        auto want = render(p, vars);
        if (!want) {
            res.script_error = want.error();
            res.ok = false;
            return res;
        }
        m.bytes("frame", d.bytes, *want);
        return res;
    }
    if (!d.l2_ok) {
        m.miss("frame", "not an Ethernet frame", "Ethernet");
        return res;
    }
    m.eq("eth.src", p.eth_src_, d.l2.src);
    m.eq("eth.dst", p.eth_dst_, d.l2.dst);
    if (p.vlans_ && !std::equal(p.vlans_->begin(), p.vlans_->end(), d.l2.vlans.begin(), d.l2.vlans.end()))
        m.miss("vlans", format_vlans({d.l2.vlans.begin(), d.l2.vlans.size()}), format_vlans(*p.vlans_));
    m.val("eth.type", p.ethertype_, d.l2.ethertype, 0xffff);
    if (p.kind_ == K::arp) {
        if (!d.arp) {
            m.miss("kind", "not ARP", "ARP");
            return res;
        }
        m.val("arp.op", p.arp_op_, d.arp->op, 0xffff);
        m.eq("arp.sender_mac", p.arp_smac_, d.arp->sender_mac);
        m.eq("arp.sender_ip", p.arp_sip_, d.arp->sender_ip);
        m.eq("arp.target_mac", p.arp_tmac_, d.arp->target_mac);
        m.eq("arp.target_ip", p.arp_tip_, d.arp->target_ip);
    }
    if (p.kind_ == K::ipv4) {
        if (!d.ip) {
            m.miss("kind", "not IPv4", "IPv4");
            return res;
        }
        const wire::Ipv4Repr& ip = *d.ip;
        m.eq("ip.src", p.ip_src_, ip.src);
        m.eq("ip.dst", p.ip_dst_, ip.dst);
        m.val("ip.proto", p.ip_proto_, ip.protocol, 0xff);
        m.val("ip.ttl", p.ttl_, ip.ttl, 0xff);
        m.val("ip.tos", p.tos_, ip.tos, 0xff);
        m.val("ip.id", p.ip_id_, ip.ident, 0xffff);
        m.val("ip.df", p.df_, ip.dont_frag ? 1 : 0, 1);
        m.val("ip.mf", p.mf_, ip.more_frags ? 1 : 0, 1);
        m.val("ip.frag_off", p.frag_off_, ip.frag_offset, 0xfff8);
        m.val("ip.len", p.ip_len_, ip.total_len(), 0xffff);
        m.val("ip.hl", p.ip_hl_, ip.header_len, 0x3c);
        m.val("ip.csum", p.ip_csum_, load_be16(&d.bytes[d.ip_off + 10]), 0xffff);
        if (p.ip_opts_) {
            std::vector<std::uint8_t> w = *p.ip_opts_;
            w.resize((w.size() + 3) / 4 * 4, 0);
            m.bytes("ip.options", Bytes(d.bytes).subspan(d.ip_off + 20, ip.header_len - 20u), w);
        }
        if (p.l4_ != L4::none || p.l4_raw_) {
            if (ip.frag_offset != 0) {
                m.miss("l4", "a fragment at offset " + std::to_string(ip.frag_offset) + " (no L4 header)",
                       std::string(l4_name(p.l4_)) + " header");
                return res;
            }
        }
        if (p.l4_raw_) m.bytes("l4", Bytes(d.bytes).subspan(d.l4_off, ip.payload_len), *p.l4_raw_);
        if (p.l4_ != L4::none && !p.l4_raw_) {
            if (d.l4 != p.l4_) {
                m.miss("l4", l4_name(d.l4), l4_name(p.l4_));
                return res;
            }
            m.val("checksum", p.csum_, d.l4_csum, 0xffff);
        }
        if (!p.l4_raw_) switch (p.l4_) {
            case L4::none: break;
            case L4::udp:
                m.val("udp.sport", p.sport_, d.udp.src_port.value(), 0xffff);
                m.val("udp.dport", p.dport_, d.udp.dst_port.value(), 0xffff);
                m.val("udp.len", p.udp_len_, d.udp.length, 0xffff);
                break;
            case L4::tcp: {
                const wire::TcpRepr& t = d.tcp;
                m.val("tcp.sport", p.sport_, t.src_port.value(), 0xffff);
                m.val("tcp.dport", p.dport_, t.dst_port.value(), 0xffff);
                if (p.flags_ && p.flags_->kind() == Val::Kind::literal && (p.flags_->literal() & 0xff) != t.flags)
                    m.miss("tcp.flags", tcp_flags_text(t.flags), tcp_flags_text(static_cast<std::uint8_t>(p.flags_->literal())));
                else if (p.flags_ && p.flags_->kind() != Val::Kind::literal)
                    m.val("tcp.flags", p.flags_, t.flags, 0xff);
                m.val("tcp.seq", p.seq_, t.seq.raw(), 0xffffffffu);
                m.val("tcp.ack", p.ack_, t.ack.raw(), 0xffffffffu);
                m.val("tcp.win", p.win_, t.window, 0xffff);
                m.val("tcp.urp", p.urp_, t.urgent, 0xffff);
                m.val("tcp.hl", p.tcp_hl_, t.header_len, 0x3c);
                m.val("tcp.reserved", p.reserved_, d.tcp_reserved, 0xf);
                if (p.tcp_opt_raw_) {
                    std::vector<std::uint8_t> w = *p.tcp_opt_raw_;
                    w.resize((w.size() + 3) / 4 * 4, 0);
                    m.bytes("tcp.options", d.tcp_option_bytes(), w);
                }
                const wire::TcpOptions& o = t.options;
                const bool exact = p.opts_named_ && !p.more_opts_;
                auto presence = [&](const char* name, bool want, bool got) {
                    if (want && !got) m.miss(name, "absent", "present");
                    if (!want && got && exact) m.miss(name, "present", "absent");
                    return want && got;
                };
                if (presence("tcp.mss", p.mss_.has_value(), o.mss.has_value())) m.val("tcp.mss", p.mss_, *o.mss, 0xffff);
                if (presence("tcp.wscale", p.wscale_.has_value(), o.wscale.has_value()))
                    m.val("tcp.wscale", p.wscale_, *o.wscale, 0xff);
                presence("tcp.sack_ok", p.sack_ok_, o.sack_permitted);
                if (presence("tcp.ts", p.ts_.has_value(), o.timestamps.has_value())) {
                    m.val("tcp.tsval", p.ts_->first, o.timestamps->first, 0xffffffffu);
                    m.val("tcp.tsecr", p.ts_->second, o.timestamps->second, 0xffffffffu);
                }
                if (presence("tcp.sack", p.sack_.has_value(), o.sack_count > 0)) {
                    if (p.sack_->size() != o.sack_count) {
                        m.miss("tcp.sack blocks", std::to_string(o.sack_count), std::to_string(p.sack_->size()));
                    } else {
                        for (std::size_t i = 0; i < o.sack_count; ++i) {
                            m.val("tcp.sack.left", (*p.sack_)[i].first, o.sack[i].left.raw(), 0xffffffffu);
                            m.val("tcp.sack.right", (*p.sack_)[i].second, o.sack[i].right.raw(), 0xffffffffu);
                        }
                    }
                }
                break;
            }
            case L4::icmp: {
                m.val("icmp.type", p.icmp_type_, d.icmp.type, 0xff);
                m.val("icmp.code", p.icmp_code_, d.icmp.code, 0xff);
                m.val("icmp.rest", p.icmp_rest_, d.icmp.rest, 0xffffffffu);
                m.val("icmp.echo_id", p.echo_id_, d.icmp.echo_ident(), 0xffff);
                m.val("icmp.echo_seq", p.echo_seq_, d.icmp.echo_seq(), 0xffff);
                if (p.quotes_) {
                    auto orig = render(*p.quotes_, vars);
                    if (!orig) {
                        res.script_error = "quotes(): " + orig.error();
                        res.ok = false;
                        return res;
                    }
                    Decoded od = decode(std::move(*orig));
                    Bytes want = od.ip_bytes();
                    Bytes got = d.payload();
                    std::size_t need = od.ip ? od.ip->header_len + 8u : 28u;
                    if (got.size() < std::min(need, want.size()))
                        m.miss("icmp.quote", std::to_string(got.size()) + " bytes", "at least the IP header and 8 bytes");
                    else
                        m.bytes("icmp.quote", got, want.first(std::min(got.size(), want.size())));
                }
                break;
            }
        }
    }
    if (p.payload_) m.bytes("payload", d.payload(), *p.payload_);
    if (p.payload_len_ && *p.payload_len_ != d.payload_len)
        m.miss("payload_len", std::to_string(d.payload_len), std::to_string(*p.payload_len_));
    if (!res.ok) res.bound.clear();
    return res;
}

}  // namespace uinet::test
