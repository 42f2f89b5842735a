package api

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientAddress(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name         string
		remote       string
		forwardedFor []string
		trusted      []netip.Prefix
		want         string
	}{
		{"IPv4", "192.0.2.1:5000", nil, nil, "192.0.2.1"},
		{"IPv6 as its /64", "[2001:db8:1:2:3:4:5:6]:5000", nil, nil, "2001:db8:1:2::/64"},
		{"IPv6 with a zone", "[fe80::1%eth0]:5000", nil, nil, "fe80::/64"},
		{"IPv4-mapped IPv6 as IPv4", "[::ffff:192.0.2.1]:5000", nil, nil, "192.0.2.1"},
		{"forwarded-for ignored without trusted proxies", "192.0.2.1:5000", []string{"198.51.100.1"}, nil, "192.0.2.1"},
		{"forwarded-for ignored from an untrusted address", "192.0.2.1:5000", []string{"198.51.100.1"}, proxies, "192.0.2.1"},
		{"the hop a trusted proxy saw", "10.0.0.1:5000", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"hops the client forged ignored", "10.0.0.1:5000", []string{"203.0.113.1, 198.51.100.1"}, proxies, "198.51.100.1"},
		{"through several trusted proxies", "10.0.0.1:5000", []string{"198.51.100.1, 10.2.0.1", "fd00::7"}, proxies, "198.51.100.1"},
		{"a hop with a port", "10.0.0.1:5000", []string{"[2001:db8::1]:443"}, proxies, "2001:db8::/64"},
		{"only trusted hops: the left-most", "10.0.0.1:5000", []string{"10.3.0.1, 10.2.0.1"}, proxies, "10.3.0.1"},
		{"a hop that is no address: the proxy next to it", "10.0.0.1:5000", []string{"198.51.100.1, unknown, 10.2.0.1"}, proxies, "10.2.0.1"},
		{"no forwarded-for from a trusted proxy", "10.0.0.1:5000", nil, proxies, "10.0.0.1"},
	}
	for _, tt := range tests {
		s := &Server{TrustedProxies: tt.trusted}
		r := &http.Request{RemoteAddr: tt.remote, Header: http.Header{}}
		for _, v := range tt.forwardedFor {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := s.clientAddress(r); got != tt.want {
			t.Errorf("%s: clientAddress = %q, want %q", tt.name, got, tt.want)
		}
	}
}
