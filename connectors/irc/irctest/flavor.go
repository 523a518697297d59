package irctest

import (
	"bytes"
	"fmt"
	"os"
	"text/template"
)

// flavor is what Start needs to know about one server implementation.
type flavor struct {
	// binary is the executable's name; aptPackage the Debian package that
	// installs it.
	binary, aptPackage string
	// logFile is the log the server writes in its directory, if any,
	// relative to that directory.
	logFile string
	// listenBacklog is the backlog the server passes to listen(2).
	listenBacklog int
	// configure writes the server's files into dir and returns the
	// command-line arguments that run it in the foreground.
	configure func(dir string, port int, opts Options) ([]string, error)
}

// flavors maps every Kind to its flavor.
var flavors = map[Kind]flavor{
	InspIRCd: inspircdFlavor,
	Ngircd:   ngircdFlavor,
}

// configData is what the configuration templates see.
type configData struct {
	Options
	Dir     string
	Port    int
	LogPath string
	PidPath string
}

// writeTemplate renders tmpl with data into path, readable only by its
// owner (the configuration may hold the oper password).
func writeTemplate(path string, tmpl *template.Template, data configData) error {
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		return fmt.Errorf("render %s: %w", tmpl.Name(), err)
	}
	return os.WriteFile(path, b.Bytes(), 0o600)
}
