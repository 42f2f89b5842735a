package api

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddress is the address a request came from, as the budget of
// failed authentications and the checks of client secrets know a client:
// the connection's remote address, or, when that is a trusted proxy's, the
// right-most hop of X-Forwarded-For that is not a trusted proxy (hops
// further left were written by whoever the untrusted hop is, so anyone can
// forge them). An IPv6 client is its /64: one host commonly holds a whole
// /64, and could otherwise take a fresh address, and a fresh budget, for
// each attempt.
func (s *Server) clientAddress(r *http.Request) string {
	addr, ok := parseHop(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	if s.trusted(addr) {
		hops := forwardedHops(r.Header)
		for i := len(hops) - 1; i >= 0; i-- {
			hop, ok := parseHop(hops[i])
			if !ok {
				// What a trusted proxy forwarded as the client is not an
				// address: the proxy nearest to it stands for it.
				break
			}
			addr = hop
			if !s.trusted(hop) {
				break
			}
		}
	}
	return addressKey(addr)
}

// trusted reports whether addr is one of TrustedProxies.
func (s *Server) trusted(addr netip.Addr) bool {
	for _, p := range s.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// forwardedHops are the addresses of every X-Forwarded-For header, left to
// right, as proxies appended them.
func forwardedHops(h http.Header) []string {
	var hops []string
	for _, v := range h.Values("X-Forwarded-For") {
		for hop := range strings.SplitSeq(v, ",") {
			hops = append(hops, strings.TrimSpace(hop))
		}
	}
	return hops
}

// parseHop reads an address with or without a port ("192.0.2.1",
// "192.0.2.1:443", "[2001:db8::1]:443", "2001:db8::1"), IPv4-mapped IPv6
// addresses as IPv4 and without an IPv6 zone.
func parseHop(s string) (netip.Addr, bool) {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return addr.Unmap().WithZone(""), true
}

// addressKey spells addr as its budget is kept: an IPv4 address as it is,
// an IPv6 address as its /64.
func addressKey(addr netip.Addr) string {
	if addr.Is4() {
		return addr.String()
	}
	return netip.PrefixFrom(addr, 64).Masked().String()
}
