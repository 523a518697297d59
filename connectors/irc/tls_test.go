package irc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/connectors"
	"switchboard/connectors/irc/irctest"
)

// tlsFront listens with TLS on a loopback port (a self-signed certificate)
// and relays every connection to the plain IRC server behind it, as a TLS
// terminator in front of an IRC network would.
func tlsFront(t *testing.T, backend string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "irc.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"irc.test"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			front, err := ln.Accept()
			if err != nil {
				return
			}
			back, err := net.Dial("tcp", backend)
			if err != nil {
				front.Close()
				continue
			}
			wg.Go(func() { _, _ = io.Copy(back, front); back.Close() })
			wg.Go(func() { _, _ = io.Copy(front, back); front.Close() })
		}
	})
	return ln.Addr().String()
}

// TestTLSConnections: with tls on, the bot and users' connections speak
// TLS; tls_insecure_skip_verify accepts a self-signed certificate, and
// without it the certificate is refused.
func TestTLSConnections(t *testing.T) {
	srv := irctest.Start(t, irctest.Options{Kind: irctest.Ngircd})
	front := tlsFront(t, srv.Addr)
	watcher := irctest.Dial(t, srv.Addr, "watcher")
	watcher.Join("#tls")

	c, _ := liveConnector(t, srv, func(n *NetworkConfig) {
		n.Server, n.TLS, n.TLSInsecureSkipVerify, n.Channels = front, true, true, []string{"#tls"}
	})
	watcher.Expect(20*time.Second, "the bot joins over TLS", irctest.Joined("switchboard", "#tls"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client, err := c.ClientFor(ctx, &connectors.MatrixUser{ID: "@secure:example.org", DisplayName: "secure"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.SendMessage(ctx, "test/#tls", &connectors.Message{MsgType: "m.text", Body: "over TLS"}); err != nil {
		t.Fatal(err)
	}
	watcher.Expect(20*time.Second, "a line over TLS", irctest.Privmsg("secure[m]", "#tls", "over TLS"))

	_, strictHost := liveConnector(t, srv, func(n *NetworkConfig) {
		n.Server, n.TLS, n.BotNick = front, true, "strictbot"
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		refused := false
		for _, st := range strictHost.States() {
			if st.Event == connectors.StateTransientDisconnect && strings.Contains(st.Message, "certificate") {
				refused = true
			}
		}
		if refused {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a self-signed certificate was not refused: states %+v", strictHost.States())
		}
		time.Sleep(50 * time.Millisecond)
	}
	watcher.ExpectNone(time.Second, "the strict bot connected", irctest.Joined("strictbot", ""))
}
