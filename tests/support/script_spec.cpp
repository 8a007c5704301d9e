// tests/support/script_spec.cpp — frame patterns: builders, sides, the
// one-line description of a pattern, and rendering for injection.
//
// Rendering writes every header by hand from the spec's fields (so that
// hostile values — a lying length, an odd IHL, raw option bytes — can be
// injected), then computes the checksums the stack will verify: IPv4 header
// (RFC 791), UDP/TCP over the pseudo header (RFC 768, RFC 9293 3.1), ICMP
// over the message (RFC 792). bad_checksum() flips bits so the result never
// verifies (and never becomes UDP's "no checksum" 0).
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "script.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"

namespace uinet::test {

std::string format_time(Duration d) {
    std::int64_t ns = d.ns();
    const char* sign = ns < 0 ? "-" : "";
    if (ns < 0) ns = -ns;
    char buf[48];
    std::int64_t whole = ns / 1000000000, frac = ns % 1000000000;
    std::snprintf(buf, sizeof buf, "%s%lld.%09lld", sign, static_cast<long long>(whole), static_cast<long long>(frac));
    std::string s(buf);
    // Keep at least milliseconds.
    std::size_t keep = s.find('.') + 4;
    while (s.size() > keep && s.back() == '0') s.pop_back();
    return s + "s";
}

std::string format_vlans(std::span<const wire::VlanTag> tags) {
    if (tags.empty()) return "untagged";
    std::string s = "vlan[";
    for (std::size_t i = 0; i < tags.size(); ++i) {
        char b[16];
        std::snprintf(b, sizeof b, "0x%04x:", tags[i].tpid);
        s += (i ? "," : "") + std::string(b) + std::to_string(tags[i].vid());
        if (tags[i].pcp()) s += " pcp " + std::to_string(tags[i].pcp());
        if (tags[i].dei()) s += " dei";
    }
    return s + "]";
}

std::string Val::describe() const {
    switch (kind_) {
        case Kind::literal: return std::to_string(lit_);
        case Kind::wild: return "*";
        case Kind::capture: return "?" + name_;
        case Kind::var: {
            std::string s = "$" + name_;
            if (off_ > 0) s += "+" + std::to_string(off_);
            if (off_ < 0) s += std::to_string(off_);
            return s;
        }
    }
    return "?";
}

// ---- builders -------------------------------------------------------------

PacketSpec PacketSpec::raw(std::vector<std::uint8_t> frame) {
    PacketSpec p;
    p.kind_ = Kind::raw;
    p.raw_ = std::move(frame);
    return p;
}

PacketSpec PacketSpec::make(Kind k, L4 l4) {
    PacketSpec p;
    p.kind_ = k;
    p.l4_ = l4;
    return p;
}

PacketSpec& PacketSpec::vlan(std::uint16_t vid, std::uint8_t pcp, std::uint16_t tpid) {
    if (!vlans_) vlans_.emplace();
    vlans_->push_back(wire::VlanTag::make(tpid, vid, pcp));
    return *this;
}

PacketSpec& PacketSpec::add_flag(std::uint8_t f) {
    std::uint64_t cur = flags_ && flags_->kind() == Val::Kind::literal ? flags_->literal() : 0;
    flags_ = Val(cur | f);
    return *this;
}

PacketSpec& PacketSpec::flags(std::string_view letters) {
    std::uint8_t f = 0;
    for (char c : letters) {
        switch (c) {
            case 'F': f |= wire::TcpFlags::fin; break;
            case 'S': f |= wire::TcpFlags::syn; break;
            case 'R': f |= wire::TcpFlags::rst; break;
            case 'P': f |= wire::TcpFlags::psh; break;
            case '.': f |= wire::TcpFlags::ack; break;
            case 'U': f |= wire::TcpFlags::urg; break;
            case 'E': f |= wire::TcpFlags::ece; break;
            case 'W': f |= wire::TcpFlags::cwr; break;
            default: break;  // unknown letters are ignored (described by describe())
        }
    }
    flags_ = Val(f);
    return *this;
}

PacketSpec& PacketSpec::ts(Val tsval, Val tsecr) {
    opts_named_ = true;
    ts_ = std::make_pair(std::move(tsval), std::move(tsecr));
    return *this;
}

PacketSpec& PacketSpec::sack(std::vector<std::pair<Val, Val>> blocks) {
    opts_named_ = true;
    sack_ = std::move(blocks);
    return *this;
}

PacketSpec& PacketSpec::echo(Val id, Val seq) {
    echo_id_ = std::move(id);
    echo_seq_ = std::move(seq);
    return *this;
}

PacketSpec& PacketSpec::quotes(const PacketSpec& original) {
    quotes_ = std::make_shared<const PacketSpec>(original);
    return *this;
}

PacketSpec& PacketSpec::payload(std::string_view text) {
    payload_ = std::vector<std::uint8_t>(text.begin(), text.end());
    return *this;
}

std::size_t PacketSpec::l4_size() const {
    if (l4_raw_) return l4_raw_->size();
    std::size_t n = payload_ ? payload_->size() : payload_len_.value_or(0);
    switch (l4_) {
        case L4::none: return n;
        case L4::udp: return 8 + n;
        case L4::icmp: return 8 + n;
        case L4::tcp: {
            std::size_t o = 0;
            if (tcp_opt_raw_) {
                o = (tcp_opt_raw_->size() + 3) / 4 * 4;
            } else {
                wire::TcpOptions t;
                if (mss_) t.mss = 0;
                if (wscale_) t.wscale = 0;
                t.sack_permitted = sack_ok_;
                if (ts_) t.timestamps = std::make_pair(0u, 0u);
                if (sack_) t.sack_count = static_cast<std::uint8_t>(std::min<std::size_t>(sack_->size(), 4));
                o = t.size();
            }
            return 20 + o + n;
        }
    }
    return n;
}

std::vector<PacketSpec> PacketSpec::fragments(std::size_t max_payload) const {
    std::vector<PacketSpec> out;
    std::size_t step = std::max<std::size_t>(8, max_payload / 8 * 8);
    std::size_t total = l4_size();
    for (std::size_t off = 0; off < total || (total == 0 && off == 0); off += step) {
        PacketSpec f = *this;
        f.slice_ = Slice{off, std::min(step, total - off), off + step < total};
        out.push_back(std::move(f));
        if (total == 0) break;
    }
    return out;
}

// ---- sides ------------------------------------------------------------------

PacketSpec Side::l2(PacketSpec p, const MacAddr& dst) const {
    p.eth_src(self_.mac).eth_dst(dst).vlans(vlans_);
    return p;
}

PacketSpec Side::eth(std::uint16_t ethertype) const {
    return l2(PacketSpec::make(PacketSpec::Kind::eth), other_.mac).ethertype(ethertype);
}

PacketSpec Side::ipv4(Val protocol) const {
    return l2(PacketSpec::make(PacketSpec::Kind::ipv4), other_.mac)
        .ip_src(self_.ip)
        .ip_dst(other_.ip)
        .ip_proto(std::move(protocol));
}

PacketSpec Side::udp(Val sport, Val dport) const {
    PacketSpec p = l2(PacketSpec::make(PacketSpec::Kind::ipv4, PacketSpec::L4::udp), other_.mac);
    return p.ip_src(self_.ip).ip_dst(other_.ip).ip_proto(wire::ip_proto::udp).sport(std::move(sport)).dport(std::move(dport));
}

PacketSpec Side::tcp(Val sport, Val dport) const {
    PacketSpec p = l2(PacketSpec::make(PacketSpec::Kind::ipv4, PacketSpec::L4::tcp), other_.mac);
    return p.ip_src(self_.ip).ip_dst(other_.ip).ip_proto(wire::ip_proto::tcp).sport(std::move(sport)).dport(std::move(dport));
}

PacketSpec Side::icmp(Val type, Val code) const {
    PacketSpec p = l2(PacketSpec::make(PacketSpec::Kind::ipv4, PacketSpec::L4::icmp), other_.mac);
    return p.ip_src(self_.ip).ip_dst(other_.ip).ip_proto(wire::ip_proto::icmp).icmp_type(std::move(type)).icmp_code(std::move(code));
}

PacketSpec Side::echo_request(Val id, Val seq) const {
    return icmp(wire::icmpv4_type::echo_request, 0).echo(std::move(id), std::move(seq));
}

PacketSpec Side::echo_reply(Val id, Val seq) const {
    return icmp(wire::icmpv4_type::echo_reply, 0).echo(std::move(id), std::move(seq));
}

PacketSpec Side::arp_request(Ipv4Addr target) const {
    return l2(PacketSpec::make(PacketSpec::Kind::arp), MacAddr::broadcast())
        .arp_op(wire::arp_op::request)
        .arp_sender(self_.mac, self_.ip)
        .arp_target_ip(target);
}

PacketSpec Side::arp_reply() const {
    return l2(PacketSpec::make(PacketSpec::Kind::arp), other_.mac)
        .arp_op(wire::arp_op::reply)
        .arp_sender(self_.mac, self_.ip)
        .arp_target(other_.mac, other_.ip);
}

PacketSpec Side::arp_announce() const {
    return l2(PacketSpec::make(PacketSpec::Kind::arp), MacAddr::broadcast())
        .arp_op(wire::arp_op::request)
        .arp_sender(self_.mac, self_.ip)
        .arp_target(MacAddr(), self_.ip);
}

// ---- describe ---------------------------------------------------------------

namespace {

std::string bytes_text(const std::vector<std::uint8_t>& b) {
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

void opt(std::ostringstream& o, const char* name, const std::optional<Val>& v) {
    if (v) o << " " << name << "=" << v->describe();
}

}  // namespace

std::string PacketSpec::describe() const {
    std::ostringstream o;
    if (kind_ == Kind::raw) {
        o << "raw frame " << raw_.size() << " bytes";
        return o.str();
    }
    o << (eth_src_ ? eth_src_->to_string() : "*") << " > " << (eth_dst_ ? eth_dst_->to_string() : "*");
    o << " " << (vlans_ ? format_vlans(*vlans_) : "vlan=*");
    opt(o, "ethertype", ethertype_);
    if (kind_ == Kind::arp) {
        o << " ARP";
        opt(o, "op", arp_op_);
        if (arp_smac_ || arp_sip_)
            o << " sender " << (arp_smac_ ? arp_smac_->to_string() : "*") << "/" << (arp_sip_ ? arp_sip_->to_string() : "*");
        if (arp_tmac_ || arp_tip_)
            o << " target " << (arp_tmac_ ? arp_tmac_->to_string() : "*") << "/" << (arp_tip_ ? arp_tip_->to_string() : "*");
    }
    if (kind_ == Kind::ipv4) {
        o << " IPv4 " << (ip_src_ ? ip_src_->to_string() : "*") << " > " << (ip_dst_ ? ip_dst_->to_string() : "*");
        opt(o, "proto", ip_proto_);
        opt(o, "ttl", ttl_);
        opt(o, "tos", tos_);
        opt(o, "id", ip_id_);
        opt(o, "df", df_);
        opt(o, "mf", mf_);
        opt(o, "frag_off", frag_off_);
        opt(o, "ip_len", ip_len_);
        opt(o, "ip_hl", ip_hl_);
        opt(o, "ip_csum", ip_csum_);
        if (ip_opts_) o << " ip_options=" << bytes_text(*ip_opts_);
        if (slice_) o << " [fragment " << slice_->offset << "+" << slice_->len << (slice_->more ? " MF" : "") << "]";
    }
    switch (l4_) {
        case L4::none: break;
        case L4::udp:
            o << " UDP " << (sport_ ? sport_->describe() : "*") << " > " << (dport_ ? dport_->describe() : "*");
            opt(o, "len", udp_len_);
            break;
        case L4::tcp: {
            o << " TCP " << (sport_ ? sport_->describe() : "*") << " > " << (dport_ ? dport_->describe() : "*");
            if (flags_ && flags_->kind() == Val::Kind::literal) {
                static const char* letters = "FSRP.UEW";
                std::string f;
                for (int i = 0; i < 8; ++i)
                    if (flags_->literal() & (1u << i)) f += letters[i];
                o << " [" << f << "]";
            } else {
                opt(o, "flags", flags_);
            }
            opt(o, "seq", seq_);
            opt(o, "ack", ack_);
            opt(o, "win", win_);
            opt(o, "urp", urp_);
            opt(o, "hl", tcp_hl_);
            opt(o, "reserved", reserved_);
            if (tcp_opt_raw_) o << " options=" << bytes_text(*tcp_opt_raw_);
            if (opts_named_) {
                o << " <";
                std::string sep;
                if (mss_) { o << sep << "mss " << mss_->describe(); sep = ","; }
                if (sack_ok_) { o << sep << "sackOK"; sep = ","; }
                if (ts_) { o << sep << "TS val " << ts_->first.describe() << " ecr " << ts_->second.describe(); sep = ","; }
                if (wscale_) { o << sep << "wscale " << wscale_->describe(); sep = ","; }
                if (sack_) {
                    o << sep << "sack";
                    for (const auto& b : *sack_) o << " " << b.first.describe() << ":" << b.second.describe();
                    sep = ",";
                }
                if (more_opts_) o << sep << "...";
                o << ">";
            }
            break;
        }
        case L4::icmp:
            o << " ICMP";
            opt(o, "type", icmp_type_);
            opt(o, "code", icmp_code_);
            opt(o, "rest", icmp_rest_);
            opt(o, "id", echo_id_);
            opt(o, "seq", echo_seq_);
            if (quotes_) o << " quoting {" << quotes_->describe() << "}";
            break;
    }
    opt(o, "csum", csum_);
    if (bad_csum_) o << " bad_checksum";
    if (bad_ip_csum_) o << " bad_ip_checksum";
    if (l4_raw_) o << " l4_bytes=" << bytes_text(*l4_raw_);
    if (payload_) o << " payload " << payload_->size() << " " << bytes_text(*payload_);
    if (payload_len_) o << " payload_len=" << *payload_len_;
    if (pad_to_) o << " pad_to=" << pad_to_;
    if (truncate_) o << " truncated to " << *truncate_;
    if (!pokes_.empty()) o << " " << pokes_.size() << " poked bytes";
    if (within_ > Duration::zero()) o << " within " << format_time(within_);
    return o.str();
}

// ---- render -----------------------------------------------------------------

namespace {

struct Resolver {
    const Vars& vars;
    std::string error;
    std::uint64_t get(const std::optional<Val>& v, std::uint64_t dflt, const char* field, std::uint64_t mask) {
        if (!v) return dflt & mask;
        switch (v->kind()) {
            case Val::Kind::literal: return v->literal() & mask;
            case Val::Kind::wild:
            case Val::Kind::capture:
                if (error.empty()) error = std::string(field) + ": cannot inject a wildcard or capture (" + v->describe() + ")";
                return dflt & mask;
            case Val::Kind::var: {
                auto it = vars.find(v->name());
                if (it == vars.end()) {
                    if (error.empty()) error = std::string(field) + ": undefined variable " + v->describe();
                    return dflt & mask;
                }
                return (it->second + static_cast<std::uint64_t>(v->offset())) & mask;
            }
        }
        return dflt & mask;
    }
};

std::uint16_t corrupt(std::uint16_t c, bool udp) {
    std::uint16_t b = c ^ 0x5a5a;
    if (udp && b == 0) b = c ^ 0x0f0f;
    return b;
}

}  // namespace

Result<std::vector<std::uint8_t>, std::string> render(const PacketSpec& p, const Vars& vars) {
    using K = PacketSpec::Kind;
    using L4 = PacketSpec::L4;
    std::vector<std::uint8_t> out;
    Resolver r{vars, {}};
    constexpr std::uint64_t m8 = 0xff, m16 = 0xffff, m32 = 0xffffffffu;
    if (p.kind_ == K::raw) {
        out = p.raw_;
    } else {
        std::vector<std::uint8_t> l3;
        std::uint16_t ethertype = 0;
        std::vector<std::uint8_t> data = p.payload_ ? *p.payload_ : std::vector<std::uint8_t>(p.payload_len_.value_or(0));
        if (!p.payload_ && p.payload_len_)
            for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i);
        if (p.kind_ == K::eth) {
            l3 = data;
        } else if (p.kind_ == K::arp) {
            ethertype = wire::ethertype::arp;
            wire::ArpRepr a;
            a.op = static_cast<std::uint16_t>(r.get(p.arp_op_, wire::arp_op::request, "arp.op", m16));
            a.sender_mac = p.arp_smac_.value_or(MacAddr());
            a.sender_ip = p.arp_sip_.value_or(Ipv4Addr());
            a.target_mac = p.arp_tmac_.value_or(MacAddr());
            a.target_ip = p.arp_tip_.value_or(Ipv4Addr());
            l3.resize(wire::ArpRepr::size());
            a.emit(l3);
            l3.insert(l3.end(), data.begin(), data.end());
        } else {
            ethertype = wire::ethertype::ipv4;
            const Ipv4Addr src = p.ip_src_.value_or(Ipv4Addr()), dst = p.ip_dst_.value_or(Ipv4Addr());
            std::uint8_t proto = static_cast<std::uint8_t>(r.get(p.ip_proto_, 0, "ip.proto", m8));
            // The L4 part, whole (fragments slice it below).
            std::vector<std::uint8_t> l4;
            std::size_t csum_at = SIZE_MAX;  // offset of the L4 checksum field
            if (p.l4_raw_) {
                l4 = *p.l4_raw_;
            } else if (p.l4_ == L4::udp) {
                l4.resize(8);
                store_be16(&l4[0], static_cast<std::uint16_t>(r.get(p.sport_, 0, "udp.sport", m16)));
                store_be16(&l4[2], static_cast<std::uint16_t>(r.get(p.dport_, 0, "udp.dport", m16)));
                store_be16(&l4[4], static_cast<std::uint16_t>(r.get(p.udp_len_, 8 + data.size(), "udp.len", m16)));
                l4.insert(l4.end(), data.begin(), data.end());
                csum_at = 6;
            } else if (p.l4_ == L4::icmp) {
                l4.resize(8);
                l4[0] = static_cast<std::uint8_t>(r.get(p.icmp_type_, 0, "icmp.type", m8));
                l4[1] = static_cast<std::uint8_t>(r.get(p.icmp_code_, 0, "icmp.code", m8));
                store_be32(&l4[4], static_cast<std::uint32_t>(r.get(p.icmp_rest_, 0, "icmp.rest", m32)));
                if (p.echo_id_) store_be16(&l4[4], static_cast<std::uint16_t>(r.get(p.echo_id_, 0, "icmp.echo_id", m16)));
                if (p.echo_seq_) store_be16(&l4[6], static_cast<std::uint16_t>(r.get(p.echo_seq_, 0, "icmp.echo_seq", m16)));
                l4.insert(l4.end(), data.begin(), data.end());
                csum_at = 2;
            } else if (p.l4_ == L4::tcp) {
                std::vector<std::uint8_t> opts;
                if (p.tcp_opt_raw_) {
                    opts = *p.tcp_opt_raw_;
                } else {
                    wire::TcpOptions t;
                    if (p.mss_) t.mss = static_cast<std::uint16_t>(r.get(p.mss_, 0, "tcp.mss", m16));
                    if (p.wscale_) t.wscale = static_cast<std::uint8_t>(r.get(p.wscale_, 0, "tcp.wscale", m8));
                    t.sack_permitted = p.sack_ok_;
                    if (p.ts_)
                        t.timestamps = std::make_pair(static_cast<std::uint32_t>(r.get(p.ts_->first, 0, "tcp.tsval", m32)),
                                                      static_cast<std::uint32_t>(r.get(p.ts_->second, 0, "tcp.tsecr", m32)));
                    if (p.sack_) {
                        for (const auto& b : *p.sack_) {
                            if (t.sack_count == wire::kTcpMaxSackBlocks) break;
                            t.sack[t.sack_count++] = {SeqNum(static_cast<std::uint32_t>(r.get(b.first, 0, "tcp.sack", m32))),
                                                      SeqNum(static_cast<std::uint32_t>(r.get(b.second, 0, "tcp.sack", m32)))};
                        }
                    }
                    opts.resize(t.size());
                    t.emit(opts);
                }
                opts.resize((opts.size() + 3) / 4 * 4, 0);  // EOL padding
                l4.resize(20);
                store_be16(&l4[0], static_cast<std::uint16_t>(r.get(p.sport_, 0, "tcp.sport", m16)));
                store_be16(&l4[2], static_cast<std::uint16_t>(r.get(p.dport_, 0, "tcp.dport", m16)));
                store_be32(&l4[4], static_cast<std::uint32_t>(r.get(p.seq_, 0, "tcp.seq", m32)));
                store_be32(&l4[8], static_cast<std::uint32_t>(r.get(p.ack_, 0, "tcp.ack", m32)));
                std::uint64_t hl = r.get(p.tcp_hl_, 20 + opts.size(), "tcp.hl", 0x3c);
                l4[12] = static_cast<std::uint8_t>((hl / 4) << 4 | r.get(p.reserved_, 0, "tcp.reserved", 0xf));
                l4[13] = static_cast<std::uint8_t>(r.get(p.flags_, 0, "tcp.flags", m8));
                store_be16(&l4[14], static_cast<std::uint16_t>(r.get(p.win_, 65535, "tcp.win", m16)));
                store_be16(&l4[18], static_cast<std::uint16_t>(r.get(p.urp_, 0, "tcp.urp", m16)));
                l4.insert(l4.end(), opts.begin(), opts.end());
                l4.insert(l4.end(), data.begin(), data.end());
                csum_at = 16;
            } else {
                l4 = data;
            }
            if (csum_at != SIZE_MAX) {
                std::uint16_t c = 0;
                if (p.csum_) {
                    c = static_cast<std::uint16_t>(r.get(p.csum_, 0, "checksum", m16));
                } else {
                    wire::Checksum cs;
                    if (p.l4_ != L4::icmp)
                        wire::add_pseudo_v4(cs, src, dst, p.l4_ == L4::udp ? wire::ip_proto::udp : wire::ip_proto::tcp,
                                            static_cast<std::uint16_t>(l4.size()));
                    cs.add(l4);
                    c = cs.finish();
                    if (p.l4_ == L4::udp && c == 0) c = 0xffff;
                    if (p.bad_csum_) c = corrupt(c, p.l4_ == L4::udp);
                }
                store_be16(&l4[csum_at], c);
            }
            // Fragment slice.
            std::uint64_t frag = r.get(p.frag_off_, 0, "ip.frag_off", 0xfff8);
            bool more = r.get(p.mf_, 0, "ip.mf", 1) != 0;
            if (p.slice_) {
                std::size_t off = std::min(p.slice_->offset, l4.size());
                std::size_t len = std::min(p.slice_->len, l4.size() - off);
                l4 = std::vector<std::uint8_t>(l4.begin() + static_cast<std::ptrdiff_t>(off),
                                               l4.begin() + static_cast<std::ptrdiff_t>(off + len));
                frag += off;
                more = more || p.slice_->more;
            }
            std::vector<std::uint8_t> ipo = p.ip_opts_.value_or(std::vector<std::uint8_t>{});
            ipo.resize((ipo.size() + 3) / 4 * 4, 0);
            std::size_t hlen = 20 + ipo.size();
            l3.resize(hlen);
            std::uint64_t ihl = r.get(p.ip_hl_, hlen, "ip.hl", 0x3c);
            l3[0] = static_cast<std::uint8_t>(0x40 | (ihl / 4));
            l3[1] = static_cast<std::uint8_t>(r.get(p.tos_, 0, "ip.tos", m8));
            store_be16(&l3[2], static_cast<std::uint16_t>(r.get(p.ip_len_, hlen + l4.size(), "ip.len", m16)));
            store_be16(&l3[4], static_cast<std::uint16_t>(r.get(p.ip_id_, 1, "ip.id", m16)));
            std::uint16_t ff = static_cast<std::uint16_t>((frag >> 3) & 0x1fff);
            if (r.get(p.df_, 0, "ip.df", 1)) ff |= 0x4000;
            if (more) ff |= 0x2000;
            store_be16(&l3[6], ff);
            l3[8] = static_cast<std::uint8_t>(r.get(p.ttl_, 64, "ip.ttl", m8));
            l3[9] = proto;
            store_be32(&l3[12], src.value());
            store_be32(&l3[16], dst.value());
            std::copy(ipo.begin(), ipo.end(), l3.begin() + 20);
            std::uint16_t hc = wire::internet_checksum(l3);
            if (p.ip_csum_) hc = static_cast<std::uint16_t>(r.get(p.ip_csum_, 0, "ip.csum", m16));
            if (p.bad_ip_csum_ || (p.bad_csum_ && p.l4_ == L4::none)) hc = corrupt(hc, false);
            store_be16(&l3[10], hc);
            l3.insert(l3.end(), l4.begin(), l4.end());
        }
        if (p.ethertype_) ethertype = static_cast<std::uint16_t>(r.get(p.ethertype_, ethertype, "eth.type", m16));
        // Written by hand: the wire emitter stops at 16 tags, hostile input does not.
        const std::vector<wire::VlanTag> vl = p.vlans_.value_or(std::vector<wire::VlanTag>{});
        out.resize(14 + 4 * vl.size());
        p.eth_dst_.value_or(MacAddr()).to_bytes(&out[0]);
        p.eth_src_.value_or(MacAddr()).to_bytes(&out[6]);
        for (std::size_t i = 0; i < vl.size(); ++i) {
            store_be16(&out[12 + 4 * i], vl[i].tpid);
            store_be16(&out[14 + 4 * i], vl[i].tci);
        }
        store_be16(&out[12 + 4 * vl.size()], ethertype);
        out.insert(out.end(), l3.begin(), l3.end());
        if (out.size() < p.pad_to_) out.resize(p.pad_to_, 0);
    }
    if (!r.error.empty()) return Err{r.error};
    if (p.truncate_ && *p.truncate_ < out.size()) out.resize(*p.truncate_);
    for (const auto& [off, v] : p.pokes_) {
        if (off >= out.size()) return Err{"poke at offset " + std::to_string(off) + " beyond the frame"};
        out[off] = v;
    }
    return out;
}

}  // namespace uinet::test
