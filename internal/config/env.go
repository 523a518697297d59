package config

import (
	"fmt"
	"strconv"
)

// EnvOverride is an environment variable that overrides a key of the file.
type EnvOverride struct {
	Name string // the variable, such as SWITCHBOARD_LOG_LEVEL
	Key  string // the key it overrides, such as log.level
}

// envSetter is an override with the code that applies it.
type envSetter struct {
	EnvOverride
	set func(c *Config, value string) error
}

// envSetters is the one table of environment overrides: Parse applies it,
// EnvOverrides lists it for documentation and tests.
var envSetters = []envSetter{
	stringEnv("SWITCHBOARD_SERVER_NAME", "server_name", func(c *Config) *string { return &c.ServerName }, false),
	stringEnv("SWITCHBOARD_PUBLIC_URL", "public_url", func(c *Config) *string { return &c.PublicURL }, true),
	stringEnv("SWITCHBOARD_DATA_DIR", "data_dir", func(c *Config) *string { return &c.DataDir }, false),
	// Empty, like the key left empty in the file: the SQLite database under data_dir.
	stringEnv("SWITCHBOARD_DATABASE_URI", "database.uri", func(c *Config) *string { return &c.Database.URI }, true),
	stringEnv("SWITCHBOARD_LISTEN_CLIENT", "listen.client", func(c *Config) *string { return &c.Listen.Client }, false),
	// Empty turns federation off, whatever the file says.
	stringEnv("SWITCHBOARD_LISTEN_FEDERATION", "listen.federation", func(c *Config) *string { return &c.Listen.Federation }, true),
	{
		EnvOverride: EnvOverride{Name: "SWITCHBOARD_REGISTRATION_ENABLED", Key: "registration.enabled"},
		set: func(c *Config, value string) error {
			b, err := strconv.ParseBool(value)
			if err != nil {
				return errorf("SWITCHBOARD_REGISTRATION_ENABLED", fmt.Sprintf("%q is not true or false", value))
			}
			c.Registration.Enabled = b
			return nil
		},
	},
	stringEnv("SWITCHBOARD_LOG_LEVEL", "log.level", func(c *Config) *string { return &c.Log.Level }, false),
	stringEnv("SWITCHBOARD_LOG_FORMAT", "log.format", func(c *Config) *string { return &c.Log.Format }, false),
	// Empty, like the key left empty in the file: no homeserver set.
	stringEnv("SWITCHBOARD_HOMESERVER_URL", "homeserver.url", func(c *Config) *string { return &c.Homeserver.URL }, true),
	stringEnv("SWITCHBOARD_APPSERVICE_LISTEN", "appservice.listen", func(c *Config) *string { return &c.Appservice.Listen }, false),
	// Empty, like the key left empty in the file: http://<appservice.listen>.
	stringEnv("SWITCHBOARD_APPSERVICE_URL", "appservice.url", func(c *Config) *string { return &c.Appservice.URL }, true),
}

// stringEnv overrides a string key. A variable that is set but empty is
// refused where the key cannot be empty: the user most likely meant to leave
// it unset, and an error about the key would send them to the file instead
// of the environment.
func stringEnv(name, key string, field func(*Config) *string, emptyOK bool) envSetter {
	return envSetter{
		EnvOverride: EnvOverride{Name: name, Key: key},
		set: func(c *Config, value string) error {
			if value == "" && !emptyOK {
				return errorf(name, "set but empty; unset it to use "+key+" from the file, or give a value")
			}
			*field(c) = value
			return nil
		},
	}
}

// EnvOverrides lists the environment variables Parse reads, in the order of
// the keys they override.
func EnvOverrides() []EnvOverride {
	out := make([]EnvOverride, len(envSetters))
	for i, s := range envSetters {
		out[i] = s.EnvOverride
	}
	return out
}

// applyEnv lays the environment over c: a variable that is set wins over the
// file.
func applyEnv(c *Config, lookup func(string) (string, bool)) error {
	for _, s := range envSetters {
		value, ok := lookup(s.Name)
		if !ok {
			continue
		}
		if err := s.set(c, value); err != nil {
			return err
		}
	}
	return nil
}
