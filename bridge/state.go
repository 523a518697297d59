package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"maunium.net/go/mautrix/id"

	"switchboard/connectors"
	"switchboard/puppet"
)

// stateBoard holds the last reported state of every connection of a
// network: the bridge's own (empty user) and each login's.
type stateBoard struct {
	mu     sync.Mutex
	states map[stateKey]*ConnectionStatus
}

type stateKey struct {
	user  id.UserID
	login connectors.LoginID
}

// ConnectionStatus is one connection's state, as /health and the status
// command show it.
type ConnectionStatus struct {
	// User is the Matrix user whose login it is; empty for the bridge's own
	// connection.
	User  id.UserID          `json:"user,omitempty"`
	Login connectors.LoginID `json:"login,omitempty"`
	State string             `json:"state"`
	// Message says what happened, for people.
	Message string    `json:"message,omitempty"`
	Since   time.Time `json:"since"`
}

// Status is a bridge's state for /health and the status endpoint.
type Status struct {
	Network     string             `json:"network"`
	Connections []ConnectionStatus `json:"connections"`
	// Portals is how many remote chats are linked to rooms.
	Portals int `json:"portals"`
	// QueuedFromMatrix and QueuedFromNetwork are events waiting for
	// delivery in each direction.
	QueuedFromMatrix  int `json:"queued_from_matrix"`
	QueuedFromNetwork int `json:"queued_from_network"`
	// Healthy is false when the bridge's own connection is not connected.
	Healthy bool `json:"healthy"`
}

func (s *stateBoard) init() { s.states = map[stateKey]*ConnectionStatus{} }

// set records st; changed is false when it repeats the last state.
func (s *stateBoard) set(st connectors.State) (changed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := stateKey{st.UserID, st.Login}
	old := s.states[k]
	if old != nil && old.State == string(st.Event) && old.Message == st.Message {
		return false
	}
	s.states[k] = &ConnectionStatus{User: st.UserID, Login: st.Login, State: string(st.Event), Message: st.Message, Since: time.Now()}
	return true
}

func (s *stateBoard) snapshot() []ConnectionStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ConnectionStatus, 0, len(s.states))
	for _, st := range s.states {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].User != out[j].User {
			return out[i].User < out[j].User
		}
		return out[i].Login < out[j].Login
	})
	return out
}

func (s *stateBoard) userStates(user id.UserID) []ConnectionStatus {
	var out []ConnectionStatus
	for _, st := range s.snapshot() {
		if st.User == user {
			out = append(out, st)
		}
	}
	return out
}

// setState is Host.SetState: remember, count, store on the login, and tell
// the user in their management room when it changed.
func (b *Bridge) setState(ctx context.Context, st connectors.State) {
	if !b.states.set(st) {
		return
	}
	log := b.log.With(slog.String("state", string(st.Event)), slog.String("message", st.Message))
	if st.UserID == "" {
		log.Info("network connection state")
		return
	}
	log.Info("login state", slog.String("user_id", string(st.UserID)), slog.String("login", string(st.Login)))
	if st.Login != "" {
		// A login reports its first state before the login command stored
		// it; the state is kept in memory and stored with the next change.
		err := b.puppets.SetLoginState(ctx, b.network, st.UserID, string(st.Login), string(st.Event), st.Message)
		if err != nil && !errors.Is(err, puppet.ErrLoginNotFound) {
			log.Warn("store login state", slog.Any("error", err))
		}
	}
	text := fmt.Sprintf("%s: %s", b.display, describeState(st))
	b.notifyUser(ctx, st.UserID, text)
}

func describeState(st connectors.State) string {
	s := map[connectors.StateEvent]string{
		connectors.StateConnecting:          "connecting",
		connectors.StateConnected:           "connected",
		connectors.StateTransientDisconnect: "disconnected, reconnecting",
		connectors.StateBadCredentials:      "the network refused your credentials; log in again",
		connectors.StateUnknownError:        "error",
		connectors.StateLoggedOut:           "logged out",
	}[st.Event]
	if s == "" {
		s = string(st.Event)
	}
	if st.Message != "" {
		s += " (" + st.Message + ")"
	}
	return s
}

// Status reports the bridge's connections and queues.
func (b *Bridge) Status(ctx context.Context) Status {
	st := Status{Network: b.network, Connections: b.states.snapshot()}
	if all, err := b.portals.All(ctx, b.network); err == nil {
		st.Portals = len(all)
	}
	st.QueuedFromMatrix = b.fromMatrix.depth()
	st.QueuedFromNetwork = b.fromRemote.depth()
	for _, c := range st.Connections {
		if c.User == "" {
			st.Healthy = c.State == string(connectors.StateConnected)
		}
	}
	if !hasOwnConnection(st.Connections) {
		// A connector with no connection of its own (logins only) never
		// reports one; it counts as healthy once it has been up a while
		// without reporting trouble, so a slow first connect is not
		// mistaken for health.
		st.Healthy = b.started.Load() && time.Since(time.UnixMilli(b.startedAt.Load())) > 10*time.Second
	}
	return st
}

func hasOwnConnection(cs []ConnectionStatus) bool {
	for _, c := range cs {
		if c.User == "" {
			return true
		}
	}
	return false
}

// metrics are the bridge's Prometheus collectors.
type metrics struct {
	delivered *prometheus.CounterVec
	failed    *prometheus.CounterVec
	latency   *prometheus.HistogramVec
}

func newMetrics(network string) *metrics {
	labels := prometheus.Labels{"network": network}
	return &metrics{
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_bridge_events_delivered_total", Help: "Events the bridge delivered, by direction.", ConstLabels: labels,
		}, []string{"direction"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_bridge_events_undeliverable_total", Help: "Events the bridge gave up on and reported in the room, by direction.", ConstLabels: labels,
		}, []string{"direction"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "switchboard_bridge_delivery_seconds", Help: "Time from queueing an event to its delivery, by direction.", ConstLabels: labels,
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5, 30},
		}, []string{"direction"}),
	}
}

// RegisterMetrics adds the bridge's metrics to reg: delivery counters and
// latency, queue depths and connection states.
func (b *Bridge) RegisterMetrics(reg prometheus.Registerer) error {
	labels := prometheus.Labels{"network": b.network}
	cs := []prometheus.Collector{b.metrics.delivered, b.metrics.failed, b.metrics.latency,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_bridge_queued_events", Help: "Events waiting for delivery from Matrix to the network.", ConstLabels: mergeLabels(labels, "direction", "from_matrix"),
		}, func() float64 { return float64(b.fromMatrix.depth()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_bridge_queued_events", Help: "Events waiting for delivery from Matrix to the network.", ConstLabels: mergeLabels(labels, "direction", "from_network"),
		}, func() float64 { return float64(b.fromRemote.depth()) }),
		&stateCollector{b: b, desc: prometheus.NewDesc("switchboard_bridge_connections",
			"Connections of the bridge and its users, by state.", []string{"state"}, labels)},
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func mergeLabels(l prometheus.Labels, k, v string) prometheus.Labels {
	out := prometheus.Labels{k: v}
	for a, b := range l {
		out[a] = b
	}
	return out
}

type stateCollector struct {
	b    *Bridge
	desc *prometheus.Desc
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[string]int{}
	for _, st := range []connectors.StateEvent{connectors.StateConnecting, connectors.StateConnected,
		connectors.StateTransientDisconnect, connectors.StateBadCredentials, connectors.StateUnknownError, connectors.StateLoggedOut} {
		counts[string(st)] = 0
	}
	for _, s := range c.b.states.snapshot() {
		counts[s.State]++
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), state)
	}
}
