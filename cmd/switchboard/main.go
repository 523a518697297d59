package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"switchboard/internal/config"
)

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	go func() {
		// After the first signal starts a graceful shutdown, restore the default
		// behaviour so a second Ctrl-C ends the process at once.
		<-ctx.Done()
		stop()
	}()
	err := newRootCommand(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "switchboard: %s\n", oneLine(err))
		os.Exit(1)
	}
}

// oneLine keeps a user-facing error to a single line, whatever a library put
// into it.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "switchboard",
		Short: "A Matrix homeserver and bridges to IRC, XMPP, Slack and Discord",
		Long: `Switchboard joins chat networks to Matrix. It is a bridge framework (one
appservice per network, usable with any homeserver) and a built-in homeserver;
"switchboard serve" runs both in one process.

Every command reads its configuration from --config FILE; without the flag it
uses ./switchboard.yaml when that file exists, otherwise the built-in defaults
(print them with "switchboard config example").`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().String("config", "", "config file (default ./switchboard.yaml when present, else built-in defaults)")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w; see %s --help", err, cmd.CommandPath())
	})
	root.AddCommand(
		newServeCommand(),
		newBridgeCommand(),
		newRegistrationCommand(),
		newConfigCommand(),
		newMigrateCommand(),
		newAdminCommand(),
		newVersionCommand(),
	)
	return root
}

func configOptions() config.Options {
	return config.Options{Bridges: connectorSections()}
}

// loadConfig reads the config named by --config, ./switchboard.yaml, or the
// built-in defaults, in that order.
func loadConfig(cmd *cobra.Command) (*config.Config, error) {
	flag, _ := cmd.Flags().GetString("config")
	return config.Load(config.Find(flag), configOptions())
}
