package ratelimit

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP is the address a request comes from: the connection's peer, or,
// when the peer is a loopback address (a reverse proxy on this host), the
// last address in X-Forwarded-For, the one that proxy appended. Earlier
// entries were written by the client and prove nothing. The zero Addr means
// the peer address could not be read.
func ClientIP(r *http.Request) netip.Addr {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() || !peer.IsLoopback() {
		return peer
	}
	values := r.Header.Values("X-Forwarded-For")
	if len(values) == 0 {
		return peer
	}
	last := values[len(values)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	if fwd := parseAddr(strings.TrimSpace(last)); fwd.IsValid() {
		return fwd
	}
	return peer
}

// ClientKey is the rate-limit key of a request: its client's IPv4 address,
// or the /64 its IPv6 address lies in.
func ClientKey(r *http.Request) string {
	ip := ClientIP(r)
	if !ip.IsValid() {
		return "unknown"
	}
	if ip.Is6() {
		prefix, err := ip.Prefix(64)
		if err == nil {
			return prefix.String()
		}
	}
	return ip.String()
}

// parseAddr reads "host:port", "[v6]:port" or a bare address, and unmaps
// IPv4-mapped IPv6 addresses so one client has one key.
func parseAddr(s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	host := s
	if h, _, err := net.SplitHostPort(s); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return addr.Unmap().WithZone("")
}
