// Package e2e runs the bridge engine end to end: a real homeserver (the
// built-in one, in process), bridges speaking the Application Service API
// to it over HTTP, test networks on loopback, and Matrix users driving
// mautrix-go's client. It holds tests only; nothing imports it.
package e2e
