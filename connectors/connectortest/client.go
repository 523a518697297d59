package connectortest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"switchboard/connectors"
)

var (
	_ connectors.Client       = (*client)(nil)
	_ connectors.Editor       = (*client)(nil)
	_ connectors.Deleter      = (*client)(nil)
	_ connectors.Reactor      = (*client)(nil)
	_ connectors.Typer        = (*client)(nil)
	_ connectors.ReadMarker   = (*client)(nil)
	_ connectors.TopicSetter  = (*client)(nil)
	_ connectors.MemberSyncer = (*client)(nil)
)

// requestTimeout bounds every request but the event stream's long-poll.
const requestTimeout = 30 * time.Second

// statusError is a refusal by the network that is not retried.
type statusError struct {
	Status int
	Msg    string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("test network answered %d: %s", e.Status, e.Msg)
}

// errBadToken is wrapped by every error for a token the network no longer
// accepts.
var errBadToken = errors.New("token no longer valid")

// call sends one request with token and decodes the answer into out (when
// not nil). It maps the network's answers to the connector contract's
// errors: unreachable, 502-504 → ErrUnavailable; 429 → *RetryError; 404 →
// ErrNotFound; 401 → errBadToken; anything else refused → *statusError.
func (c *Connector) call(ctx context.Context, token, method, path string, header http.Header, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: encode: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// Includes ctx's end: the operation did not happen and may be
		// retried by whoever still runs.
		return connectors.Unavailable(fmt.Errorf("%s %s: %w", method, path, err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxRequestBytes))
	if err != nil {
		return connectors.Unavailable(fmt.Errorf("%s %s: read answer: %w", method, path, err))
	}
	if resp.StatusCode/100 == 2 {
		if out == nil || resp.StatusCode == http.StatusNoContent {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
		return nil
	}
	var we wireError
	_ = json.Unmarshal(data, &we)
	if we.Error == "" {
		we.Error = http.StatusText(resp.StatusCode)
	}
	se := &statusError{Status: resp.StatusCode, Msg: we.Error}
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return connectors.Unavailable(se)
	case http.StatusTooManyRequests:
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return &connectors.RetryError{After: time.Duration(max(secs, 0)) * time.Second, Err: se}
	case http.StatusNotFound:
		return fmt.Errorf("%w: %w", connectors.ErrNotFound, se)
	case http.StatusUnauthorized:
		return fmt.Errorf("%w: %w", errBadToken, se)
	case http.StatusRequestEntityTooLarge:
		return fmt.Errorf("too large for the test network (text at most %d KiB, request %d MiB): %w", MaxBodyBytes>>10, MaxRequestBytes>>20, se)
	}
	return se
}

// client is one identity on the network: the bot (login nil) or a Matrix
// user's login.
type client struct {
	conn  *Connector
	token string
	login *connectors.Login
}

func (cl *client) do(ctx context.Context, method, path string, header http.Header, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	err := cl.conn.call(ctx, cl.token, method, path, header, in, out)
	if errors.Is(err, errBadToken) {
		if cl.login == nil {
			cl.conn.setState(ctx, connectors.State{Event: connectors.StateBadCredentials, Message: "the test network refused the bot token"})
			return err
		}
		cl.conn.setState(ctx, connectors.State{
			Event: connectors.StateBadCredentials, UserID: cl.login.UserID, Login: cl.login.ID,
			Message: "the test network no longer accepts this login",
		})
		return fmt.Errorf("your login %s on %s is no longer valid; log in again: %w", cl.login.ID, cl.conn.info.DisplayName, err)
	}
	return err
}

// chatPath is /chats/{chat}/rest..., or ErrNotFound for a chat id the
// network never gives out.
func chatPath(chat connectors.PortalID, rest ...string) (string, error) {
	if !validID(string(chat)) {
		return "", fmt.Errorf("%w: chat %q", connectors.ErrNotFound, chat)
	}
	p := "/chats/" + string(chat)
	for _, r := range rest {
		p += "/" + r
	}
	return p, nil
}

// messagePath is /chats/{chat}/messages/{id}/rest..., or ErrNotFound for
// ids the network never gives out.
func messagePath(chat connectors.PortalID, id connectors.MessageID, rest ...string) (string, error) {
	if !validID(string(id)) {
		return "", fmt.Errorf("%w: message %q", connectors.ErrNotFound, id)
	}
	return chatPath(chat, append([]string{"messages", string(id)}, rest...)...)
}

func (cl *client) SendMessage(ctx context.Context, chat connectors.PortalID, msg *connectors.Message) (connectors.MessageID, error) {
	p, err := chatPath(chat, "messages")
	if err != nil {
		return "", err
	}
	w := toWireMessage(msg)
	if cl.login != nil {
		// Only the relay speaks for others; a user's own login is them.
		w.RelayedFor = ""
	}
	var header http.Header
	if msg.TxnID != "" {
		header = http.Header{"Idempotency-Key": {msg.TxnID}}
	}
	var res wireSent
	if err := cl.do(ctx, http.MethodPost, p, header, w, &res); err != nil {
		return "", fmt.Errorf("send to %s: %w", chat, err)
	}
	return connectors.MessageID(res.ID), nil
}

func (cl *client) EditMessage(ctx context.Context, chat connectors.PortalID, target connectors.MessageID, msg *connectors.Message) (connectors.MessageID, error) {
	p, err := messagePath(chat, target)
	if err != nil {
		return "", err
	}
	w := toWireMessage(msg)
	w.RelayedFor = "" // an edit keeps the original's
	var res wireSent
	if err := cl.do(ctx, http.MethodPut, p, nil, w, &res); err != nil {
		return "", fmt.Errorf("edit %s in %s: %w", target, chat, err)
	}
	return connectors.MessageID(res.ID), nil
}

func (cl *client) DeleteMessage(ctx context.Context, chat connectors.PortalID, target connectors.MessageID) error {
	p, err := messagePath(chat, target)
	if err != nil {
		return err
	}
	if err := cl.do(ctx, http.MethodDelete, p, nil, nil, nil); err != nil {
		return fmt.Errorf("delete %s in %s: %w", target, chat, err)
	}
	return nil
}

func (cl *client) React(ctx context.Context, chat connectors.PortalID, target connectors.MessageID, key string) (connectors.MessageID, error) {
	p, err := messagePath(chat, target, "reactions")
	if err != nil {
		return "", err
	}
	var res wireSent
	if err := cl.do(ctx, http.MethodPost, p, nil, wireReaction{Key: key}, &res); err != nil {
		return "", fmt.Errorf("react to %s in %s: %w", target, chat, err)
	}
	return connectors.MessageID(res.ID), nil
}

// Unreact takes back the reaction by its key: the network keeps one
// reaction per user and key, so the id adds nothing.
func (cl *client) Unreact(ctx context.Context, chat connectors.PortalID, target connectors.MessageID, _ connectors.MessageID, key string) error {
	p, err := messagePath(chat, target, "reactions")
	if err != nil {
		return err
	}
	p += "?key=" + url.QueryEscape(key)
	if err := cl.do(ctx, http.MethodDelete, p, nil, nil, nil); err != nil {
		return fmt.Errorf("unreact to %s in %s: %w", target, chat, err)
	}
	return nil
}

func (cl *client) SetTyping(ctx context.Context, chat connectors.PortalID, typing bool, timeout time.Duration) error {
	p, err := chatPath(chat, "typing")
	if err != nil {
		return err
	}
	if err := cl.do(ctx, http.MethodPost, p, nil, wireTyping{Typing: typing, TimeoutMS: timeout.Milliseconds()}, nil); err != nil {
		return fmt.Errorf("typing in %s: %w", chat, err)
	}
	return nil
}

func (cl *client) MarkRead(ctx context.Context, chat connectors.PortalID, upTo connectors.MessageID) error {
	p, err := chatPath(chat, "read")
	if err != nil {
		return err
	}
	if err := cl.do(ctx, http.MethodPost, p, nil, wireRead{UpTo: string(upTo)}, nil); err != nil {
		return fmt.Errorf("mark read in %s: %w", chat, err)
	}
	return nil
}

func (cl *client) SetTopic(ctx context.Context, chat connectors.PortalID, topic string) error {
	p, err := chatPath(chat, "topic")
	if err != nil {
		return err
	}
	if err := cl.do(ctx, http.MethodPut, p, nil, wireTopic{Topic: topic}, nil); err != nil {
		return fmt.Errorf("set topic of %s: %w", chat, err)
	}
	return nil
}

func (cl *client) JoinChat(ctx context.Context, chat connectors.PortalID) error {
	p, err := chatPath(chat, "join")
	if err != nil {
		return err
	}
	if err := cl.do(ctx, http.MethodPost, p, nil, nil, nil); err != nil {
		return fmt.Errorf("join %s: %w", chat, err)
	}
	return nil
}

func (cl *client) LeaveChat(ctx context.Context, chat connectors.PortalID, reason string) error {
	p, err := chatPath(chat, "leave")
	if err != nil {
		return err
	}
	if err := cl.do(ctx, http.MethodPost, p, nil, wireLeave{Reason: reason}, nil); err != nil {
		return fmt.Errorf("leave %s: %w", chat, err)
	}
	return nil
}

// whoami asks the network who the client is.
func (cl *client) whoami(ctx context.Context) (*wireSession, error) {
	var res wireSession
	if err := cl.do(ctx, http.MethodGet, "/whoami", nil, nil, &res); err != nil {
		return nil, err
	}
	return &res, nil
}
