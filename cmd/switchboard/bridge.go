package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
)

func newBridgeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bridge --network NAME",
		Short: "Run one network's bridge as an appservice for an external homeserver",
		Long: `Run one network's bridge (its own appservice, bot and namespace) against an
external homeserver such as Synapse, Dendrite or conduwuit, which must load the
file "switchboard registration --network NAME" writes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			network, _ := cmd.Flags().GetString("network")
			if _, err := loadConfig(cmd); err != nil {
				return err
			}
			return requireConnector(network)
		},
	}
	cmd.Flags().String("network", "", "network to bridge (irc, xmpp, slack, discord)")
	_ = cmd.MarkFlagRequired("network")
	return cmd
}

func newRegistrationCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registration --network NAME [-o FILE]",
		Short: "Write the appservice registration file for one network",
		Long: `Write the appservice registration YAML for one network's bridge, for a
homeserver to load. Tokens are generated once and kept under data_dir, so
running it again gives the same file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			network, _ := cmd.Flags().GetString("network")
			if _, err := loadConfig(cmd); err != nil {
				return err
			}
			return requireConnector(network)
		},
	}
	cmd.Flags().String("network", "", "network whose registration to write (irc, xmpp, slack, discord)")
	cmd.Flags().StringP("output", "o", "", "write to FILE (mode 0600) instead of standard output")
	_ = cmd.MarkFlagRequired("network")
	return cmd
}

// requireConnector reports whether network's connector is built in. None is
// yet, so every bridge command ends here with a clear answer instead of
// pretending to run.
func requireConnector(network string) error {
	if _, ok := connectorSections[network]; ok {
		return nil
	}
	if len(connectorSections) == 0 {
		return fmt.Errorf("--network %s: no connector for this network is built into Switchboard yet", network)
	}
	known := make([]string, 0, len(connectorSections))
	for name := range connectorSections {
		known = append(known, name)
	}
	sort.Strings(known)
	return fmt.Errorf("--network %s: unknown network; use one of %s", network, strings.Join(known, ", "))
}
