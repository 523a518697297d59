package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"switchboard/homeserver/accounts"
)

func newAdminCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Administer the built-in homeserver (accounts)",
	}
	cmd.AddCommand(newCreateUserCommand())
	return cmd
}

func newCreateUserCommand() *cobra.Command {
	var (
		username     string
		password     string
		passwordFile string
		admin        bool
	)
	cmd := &cobra.Command{
		Use:   "create-user --username NAME [--password PW | --password-file FILE] [--admin]",
		Short: "Create an account on the built-in homeserver",
		Long: `Create the account @NAME:server_name on the built-in homeserver and print its
user id. It works whether or not registration is enabled, and may run while
"switchboard serve" is running.

The password comes from --password-file FILE (its first line), from
--password PW (visible to other users of this machine in the process list),
or else from the first line of standard input:

  switchboard admin create-user --username alice < password.txt

A username may contain a-z, 0-9 and . _ = - / +; a password needs at least
8 characters and at most 72 bytes. --admin makes the account a server
administrator.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if username == "" {
				return errors.New("--username: missing; give the account's name, e.g. --username alice")
			}
			if cmd.Flags().Changed("password") && passwordFile != "" {
				return errors.New("give either --password or --password-file, not both")
			}
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			pw, err := readNewPassword(cmd, password, passwordFile)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			log, db, err := openLogged(ctx, cfg, cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			accts, err := accounts.New(ctx, accounts.Options{
				ServerName: cfg.ServerName,
				DB:         db,
				Log:        log.With(slog.String("component", "accounts")),
				RateLimits: cfg.RateLimits,
			})
			if err != nil {
				return err
			}
			userID, err := accts.CreateUser(ctx, username, pw, admin)
			switch {
			case errors.Is(err, accounts.ErrUserInUse):
				return fmt.Errorf("@%s:%s already exists; choose another --username", username, cfg.ServerName)
			case errors.Is(err, accounts.ErrInvalidUsername):
				return fmt.Errorf("--username %q: %w", username, err)
			case errors.Is(err, accounts.ErrWeakPassword):
				return fmt.Errorf("password: %w", err)
			case err != nil:
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), userID)
			return db.Close()
		},
	}
	cmd.Flags().StringVar(&username, "username", "", "the account's name: the localpart of @NAME:server_name")
	cmd.Flags().StringVar(&password, "password", "", "the password (prefer --password-file or standard input)")
	cmd.Flags().StringVar(&passwordFile, "password-file", "", "read the password from the first line of FILE")
	cmd.Flags().BoolVar(&admin, "admin", false, "make the account a server administrator")
	return cmd
}

// readNewPassword returns the password from the flag, the file, or the
// first line of standard input, in that order.
func readNewPassword(cmd *cobra.Command, flag, file string) (string, error) {
	if cmd.Flags().Changed("password") {
		if flag == "" {
			return "", errors.New("--password: empty; give a password of at least 8 characters")
		}
		return flag, nil
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", fmt.Errorf("--password-file %s: %w", file, err)
		}
		pw, _, _ := strings.Cut(string(data), "\n")
		pw = strings.TrimSuffix(pw, "\r")
		if pw == "" {
			return "", fmt.Errorf("--password-file %s: the first line is empty; put the password on it", file)
		}
		return pw, nil
	}
	in := cmd.InOrStdin()
	if f, ok := in.(*os.File); ok {
		if info, err := f.Stat(); err == nil && info.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprint(cmd.ErrOrStderr(), "Password (shown as you type): ")
		}
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password on standard input; pipe one in, or use --password-file FILE")
	}
	return pw, nil
}
