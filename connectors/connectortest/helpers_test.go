package connectortest

import (
	"context"
	"strings"
	"testing"

	"switchboard/connectors"
)

// newNetwork starts a network for one test.
func newNetwork(t *testing.T) (*Network, string) {
	t.Helper()
	n := NewNetwork()
	url := n.Start()
	t.Cleanup(n.Close)
	return n, url
}

// startConnector starts c with host and stops it at cleanup; it waits until
// the bot's connection is up.
func startConnector(t *testing.T, c *Connector, host *FakeHost) {
	t.Helper()
	host.Network = c.Info().Name
	ctx, cancel := context.WithCancel(context.Background())
	if err := c.Start(ctx, host); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
		cancel()
	})
	waitConnected(t, host, 0)
}

// started is a network with a chat "general" and a running connector
// "testnet".
func started(t *testing.T) (*Network, *Connector, *FakeHost) {
	t.Helper()
	n, url := newNetwork(t)
	n.CreateChat("general", "General", true)
	c := New("testnet", url)
	host := NewFakeHost(t)
	startConnector(t, c, host)
	return n, c, host
}

func ctxFor(t *testing.T) context.Context {
	return testContext(t)
}

// withBody matches a message event in chat whose body contains text.
func withBody(chat connectors.PortalID, text string) func(*connectors.RemoteEvent) bool {
	return func(e *connectors.RemoteEvent) bool {
		return e.Type == connectors.EventMessage && e.Chat == chat && e.Message != nil && strings.Contains(e.Message.Body, text)
	}
}

// barrier posts a marker as the network's user "barrier" and waits until
// the connector queued it: anything it would have queued before has been.
func barrier(t *testing.T, n *Network, host *FakeHost, chat connectors.PortalID) {
	t.Helper()
	marker := unique("barrier")
	n.Post(chat, "barrier", marker)
	host.WaitEvent(t, withBody(chat, marker))
}

func relayClient(t *testing.T, c *Connector) connectors.Client {
	t.Helper()
	cl, err := c.Relay(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}
