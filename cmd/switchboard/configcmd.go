package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"switchboard/internal/config"
	"switchboard/internal/database"
)

func newConfigCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print the example config or check a config file",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "example",
		Short: "Print the fully commented example config (the built-in defaults)",
		Long: `Print the fully commented example config. Its values are the built-in
defaults; save it as switchboard.yaml and edit what you need:

  switchboard config example > switchboard.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := cmd.OutOrStdout().Write(config.Example())
			return err
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Check a config file (with environment overrides) and print what it resolves to",
		Long: `Check the config (--config FILE, else ./switchboard.yaml, else the built-in
defaults) with the SWITCHBOARD_* environment overrides applied. Problems are
reported by key path with the fix; exit status 1 when there is one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			source := cfg.Source
			if source == "" {
				source = "built-in defaults"
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "config ok: %s\n", source)
			fmt.Fprintf(out, "  server_name:       %s\n", cfg.ServerName)
			fmt.Fprintf(out, "  data_dir:          %s\n", cfg.DataDir)
			fmt.Fprintf(out, "  database.uri:      %s\n", database.Redact(cfg.Database.URI))
			fmt.Fprintf(out, "  listen.client:     %s\n", cfg.Listen.Client)
			fmt.Fprintf(out, "  listen.federation: %s\n", orOff(cfg.Listen.Federation))
			fmt.Fprintf(out, "  registration:      %s\n", onOff(cfg.Registration.Enabled))
			fmt.Fprintf(out, "  appservices:       %d file(s)\n", len(cfg.Appservices))
			return nil
		},
	})
	return cmd
}

func orOff(s string) string {
	if s == "" {
		return "off"
	}
	return s
}

func onOff(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}
