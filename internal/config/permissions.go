package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// permissionsKey is the one key of the bridges mapping that is not a
// network: who may use the bridges.
const permissionsKey = "permissions"

// The permission levels of bridges.permissions, from least to most.
const (
	// PermissionRelay lets a Matrix user talk through a network's relay
	// without an identity of their own on it.
	PermissionRelay = "relay"
	// PermissionUser lets a Matrix user also use the bridge with their own
	// identity on the network (log in, start chats).
	PermissionUser = "user"
	// PermissionAdmin lets a Matrix user also run the bridge's admin
	// commands.
	PermissionAdmin = "admin"
)

var permissionLevels = []string{PermissionRelay, PermissionUser, PermissionAdmin}

// Permissions returns bridges.permissions: a map from "*", a server name or
// a full Matrix user id to PermissionRelay, PermissionUser or
// PermissionAdmin. When the file gives none (the key absent or empty) it is
// the default, {server_name: "user"}. The map is the caller's to change.
func (c *Config) Permissions() map[string]string {
	if len(c.permissions) == 0 {
		return map[string]string{c.ServerName: PermissionUser}
	}
	return maps.Clone(c.permissions)
}

// validatePermissions checks every entry of bridges.permissions, in sorted
// order so that the first problem reported does not vary between runs.
func validatePermissions(perms map[string]string) error {
	for _, key := range slices.Sorted(maps.Keys(perms)) {
		path := keyPath(keyPath("bridges", permissionsKey), key)
		if problem := validatePermissionKey(key); problem != "" {
			return errorf(path, problem)
		}
		if level := perms[key]; !slices.Contains(permissionLevels, level) {
			return errorf(path, fmt.Sprintf("%q is not a permission level; use relay, user or admin", level))
		}
	}
	return nil
}

// validatePermissionKey returns what is wrong with a key of
// bridges.permissions, or "".
func validatePermissionKey(key string) string {
	const fix = `use "*" for everyone, a server name such as example.org, or a user id such as @admin:example.org`
	if key == "*" {
		return ""
	}
	if strings.HasPrefix(key, "@") {
		if !validUserID(key) {
			return fmt.Sprintf("%q is not a Matrix user id; use @localpart:server, such as @admin:example.org", key)
		}
		return ""
	}
	if !validServerName(key) {
		return fmt.Sprintf("%q is not \"*\", a server name or a Matrix user id; %s", key, fix)
	}
	return ""
}

// validUserID accepts @localpart:server_name with the historical localpart
// grammar (any printable ASCII but ':'), which ids on other servers may
// still use, and at most 255 bytes in all.
func validUserID(s string) bool {
	if len(s) > 255 {
		return false
	}
	localpart, server, ok := strings.Cut(strings.TrimPrefix(s, "@"), ":")
	if !ok || localpart == "" {
		return false
	}
	for i := 0; i < len(localpart); i++ {
		if c := localpart[i]; c < 0x21 || c > 0x7e {
			return false
		}
	}
	return validServerName(server)
}
