// Package config loads switchboard.yaml: one schema shared by every
// Switchboard command, checked strictly and filled with defaults.
//
// The defaults live in one place, the commented example embedded in the
// binary (see Example), which `switchboard config example` prints. Loading
// decodes that example first, lays the user's file over it, applies the
// SWITCHBOARD_* environment variables (see EnvOverrides), derives what is left
// (the SQLite database under data_dir) and validates the result.
//
// Strictness is the point: a misspelt or misplaced key, a value of the wrong
// type or a key given twice is refused with an *Error naming the full key path
// and what to write instead, such as
//
//	config: bridges.irc.networks[0].sever: unknown key (did you mean "server"?)
//
// Each chat network has its own section under bridges. Its schema belongs to
// the network's connector, so callers pass the sections they know through
// Options.Bridges, and connectors decode theirs with Config.Bridge. A section
// may embed a struct inline (`yaml:",inline"`), such as the settings every
// network shares. One key under bridges is not a network: permissions, who
// may use the bridges, which Config.Permissions returns.
//
// This package must not import any other Switchboard package: everything
// else imports it.
package config
