// Command switchboard is the one binary of Switchboard: the built-in
// homeserver and every bridge (serve), a single network's appservice for an
// external homeserver (bridge), its registration file (registration), config
// tools (config example, config check), database migrations (migrate) and
// the version.
//
// It may import every Switchboard package; nothing imports it.
package main
