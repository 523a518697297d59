// Package logging builds the process's log/slog logger from the log section of
// the config (level and text or JSON format). Library code never uses a global
// logger: it receives a *slog.Logger, or a child of one, from its caller.
//
// It must not import any other Switchboard package.
package logging
