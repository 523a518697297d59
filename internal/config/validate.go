package config

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"switchboard/internal/database"
)

// Validate checks the values of c, which Parse has already checked for shape,
// and the sections of the networks in opts.Bridges. It returns the first
// problem as an *Error naming the key and the fix.
func (c *Config) Validate(opts Options) error {
	if err := validateServerName(c.ServerName); err != nil {
		return err
	}
	if c.DataDir == "" {
		return errorf("data_dir", "empty; set the directory Switchboard keeps its data in, such as ./data")
	}
	if err := validateDatabaseURI(c.Database.URI); err != nil {
		return err
	}
	if err := validateListen(c.Listen); err != nil {
		return err
	}
	if err := validateAppservices(c.Appservices); err != nil {
		return err
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return errorf("log.level", fmt.Sprintf("%q is not a log level; use debug, info, warn or error", c.Log.Level))
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return errorf("log.format", fmt.Sprintf("%q is not a log format; use text or json", c.Log.Format))
	}
	if c.AppserviceDelivery.BatchSize < 1 || c.AppserviceDelivery.BatchSize > 10000 {
		return errorf("appservice_delivery.batch_size", fmt.Sprintf("%d is out of range; use 1 to 10000 (100 is usual)", c.AppserviceDelivery.BatchSize))
	}
	if c.AppserviceDelivery.MaxRetryInterval < Duration(time.Second) {
		return errorf("appservice_delivery.max_retry_interval", "must be at least 1s, such as 5m")
	}
	if c.Media.MaxUploadBytes <= 0 {
		return errorf("media.max_upload_bytes", fmt.Sprintf("%d is not a size; use a number of bytes above 0, such as 52428800 (50 MiB)", c.Media.MaxUploadBytes))
	}
	for _, rl := range []struct {
		key   string
		limit RateLimit
	}{{"rate_limits.login", c.RateLimits.Login}, {"rate_limits.register", c.RateLimits.Register}} {
		if rl.limit.PerSecond <= 0 {
			return errorf(rl.key+".per_second", fmt.Sprintf("%v must be above 0; to turn limits off set rate_limits.enabled: false", rl.limit.PerSecond))
		}
		if rl.limit.Burst < 1 {
			return errorf(rl.key+".burst", fmt.Sprintf("%d must be at least 1", rl.limit.Burst))
		}
	}
	if err := validateHTTPURL("public_url", c.PublicURL,
		"use the address people reach the client API at, such as https://matrix.example.org, or leave it empty"); err != nil {
		return err
	}
	if err := validateHTTPURL("homeserver.url", c.Homeserver.URL,
		"use the homeserver's client API address, such as http://127.0.0.1:8008 or https://matrix.example.org"); err != nil {
		return err
	}
	if _, err := listenAddr("appservice.listen", c.Appservice.Listen, "127.0.0.1:29300"); err != nil {
		return err
	}
	if err := validateHTTPURL("appservice.url", c.Appservice.URL,
		"use the address the homeserver reaches appservice.listen at, such as http://127.0.0.1:29300, or leave it empty for http://<appservice.listen>"); err != nil {
		return err
	}
	if err := validatePermissions(c.permissions); err != nil {
		return err
	}
	return c.validateBridges(opts)
}

// validateHTTPURL checks an optional absolute http(s) URL that paths are
// appended to: "" is accepted, the caller decides whether it is needed.
func validateHTTPURL(key, raw, fix string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return errorf(key, fmt.Sprintf("%q is not an absolute http or https URL; %s", raw, fix))
	}
	if u.User != nil {
		return errorf(key, fmt.Sprintf("%q holds a user name or password; remove it, and %s", u.Redacted(), fix))
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return errorf(key, fmt.Sprintf("%q has a query or fragment, which the API paths cannot follow; remove it, and %s", raw, fix))
	}
	host := u.Hostname()
	if !validDNSName(host) {
		if _, err := netip.ParseAddr(host); err != nil {
			return errorf(key, fmt.Sprintf("%q: %q is not a host name or IP address; %s", raw, host, fix))
		}
	}
	return nil
}

const serverNameFix = "use a DNS name such as example.org, optionally with :port"

// validateServerName follows the server name grammar of the Matrix
// specification: a DNS name, an IPv4 address or a bracketed IPv6 address,
// then optionally :port.
func validateServerName(name string) error {
	if name == "" {
		return errorf("server_name", "missing; set the Matrix server name, such as example.org")
	}
	if !validServerName(name) {
		return errorf("server_name", fmt.Sprintf("%q is not a valid server name; %s", name, serverNameFix))
	}
	return nil
}

func validServerName(name string) bool {
	host, port := name, ""
	if strings.HasPrefix(name, "[") {
		end := strings.IndexByte(name, ']')
		if end < 0 {
			return false
		}
		addr, err := netip.ParseAddr(name[1:end])
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return false
		}
		rest := name[end+1:]
		if rest == "" {
			return true
		}
		port, ok := strings.CutPrefix(rest, ":")
		return ok && validPort(port, 1)
	}
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		host, port = name[:i], name[i+1:]
		if !validPort(port, 1) {
			return false
		}
	}
	return validDNSName(host)
}

// validDNSName accepts letters, digits, hyphens and dots, without empty
// labels. IPv4 addresses are DNS names by this rule.
func validDNSName(host string) bool {
	if host == "" || len(host) > 255 {
		return false
	}
	for label := range strings.SplitSeq(host, ".") {
		if label == "" {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// validPort accepts decimal ports from min to 65535.
func validPort(port string, min int) bool {
	if port == "" || len(port) > 5 {
		return false
	}
	for _, r := range port {
		if r < '0' || r > '9' {
			return false
		}
	}
	n, _ := strconv.Atoi(port)
	return n >= min && n <= 65535
}

// validateDatabaseURI checks the form of the URI, not that the database can
// be reached, with the rules database.Open applies; its messages already
// redact any password.
func validateDatabaseURI(uri string) error {
	err := database.ValidateURI(uri)
	if err == nil {
		return nil
	}
	problem := strings.TrimPrefix(err.Error(), "database.uri")
	problem = strings.TrimPrefix(strings.TrimPrefix(problem, ":"), " ")
	return errorf("database.uri", problem)
}

func validateListen(l Listen) error {
	client, err := listenAddr("listen.client", l.Client, "127.0.0.1:8008")
	if err != nil {
		return err
	}
	if l.Federation == "" {
		return nil
	}
	federation, err := listenAddr("listen.federation", l.Federation, "0.0.0.0:8448, or leave it empty to turn federation off")
	if err != nil {
		return err
	}
	if client == federation && !strings.HasSuffix(client, ":0") {
		return errorf("listen.federation", fmt.Sprintf("%q is also listen.client; use another port, such as 8448", l.Federation))
	}
	return nil
}

// listenAddr checks a host:port to listen on and returns it normalised.
func listenAddr(key, addr, fix string) (string, error) {
	if addr == "" {
		return "", errorf(key, "missing; use "+fix)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", errorf(key, fmt.Sprintf("%q is not host:port; use %s", addr, fix))
	}
	if !validPort(port, 0) {
		return "", errorf(key, fmt.Sprintf("%q: port %q is not a number from 0 to 65535; use %s", addr, port, fix))
	}
	if host != "" && !validDNSName(host) {
		if _, err := netip.ParseAddr(host); err != nil {
			return "", errorf(key, fmt.Sprintf("%q: %q is not a host name or IP address; use %s", addr, host, fix))
		}
	}
	n, _ := strconv.Atoi(port)
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}

// validateAppservices checks that each registration file can be read now,
// rather than when the homeserver is half started. Relative paths are
// relative to the working directory.
func validateAppservices(paths []string) error {
	first := make(map[string]int, len(paths))
	for i, p := range paths {
		key := indexPath("appservices", i)
		if strings.TrimSpace(p) == "" {
			return errorf(key, "empty; give the path of an appservice registration file, or remove the entry")
		}
		clean := filepath.Clean(p)
		if j, dup := first[clean]; dup {
			return errorf(key, fmt.Sprintf("%s is also appservices[%d]; list each registration file once", p, j))
		}
		first[clean] = i
		if err := checkReadable(p); err != nil {
			return errorf(key, p+": "+err.Error())
		}
	}
	return nil
}

func checkReadable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return errors.New("no such file; list the registration files the homeserver should load")
		case errors.Is(err, fs.ErrPermission):
			return errors.New("permission denied; make it readable by the user running Switchboard")
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if info.IsDir() {
		return errors.New("is a directory; list registration files, not directories")
	}
	return nil
}

// validateBridges checks each network section against its connector's schema
// and calls the section's own Validate, if it has one.
func (c *Config) validateBridges(opts Options) error {
	if err := checkSections(opts.Bridges); err != nil {
		return err
	}
	names := make([]string, 0, len(c.Bridges))
	for name := range c.Bridges {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := keyPath("bridges", name)
		section, err := newSection(opts.Bridges, name, path)
		if err != nil {
			return err
		}
		node := c.Bridges[name]
		if err := newDecoder(path, opts.Bridges).decode(&node, section.Elem(), path); err != nil {
			return err
		}
		v, ok := section.Interface().(interface{ Validate() error })
		if !ok {
			continue
		}
		if err := v.Validate(); err != nil {
			return sectionError(path, err)
		}
	}
	return nil
}

// sectionError places an error from a section's Validate under the section's
// path. An *Error whose path is already under it is returned as it is; one
// with a path relative to the section gets the section's path in front.
func sectionError(path string, err error) error {
	var ce *Error
	if !errors.As(err, &ce) {
		return errorf(path, err.Error())
	}
	switch {
	case ce.Path == path, strings.HasPrefix(ce.Path, path+"."), strings.HasPrefix(ce.Path, path+"["):
		return ce
	case ce.Path == "":
		return &Error{Path: path, Problem: ce.Problem}
	case strings.HasPrefix(ce.Path, "["):
		return &Error{Path: path + ce.Path, Problem: ce.Problem}
	}
	return &Error{Path: path + "." + ce.Path, Problem: ce.Problem}
}

// checkSections inspects the section type of every connector built in, so
// that a mistake in one (a key declared twice, an inline field that cannot
// be inline) stops every start, not only those whose file has the section.
// These are Switchboard bugs, not the user's; the message says so.
func checkSections(bridges map[string]func() any) error {
	for _, name := range slices.Sorted(maps.Keys(bridges)) {
		path := keyPath("bridges", name)
		if name == permissionsKey {
			return errorf(path, "a connector is registered under the name "+permissionsKey+", which bridges.permissions owns (a Switchboard bug)")
		}
		section, err := newSection(bridges, name, path)
		if err != nil {
			return err
		}
		if err := checkType(section.Type(), map[reflect.Type]bool{}); err != nil {
			return errorf(path, err.Error()+" (a Switchboard bug)")
		}
	}
	return nil
}

// checkType inspects every struct type reachable from t as the decoder
// would.
func checkType(t reflect.Type, seen map[reflect.Type]bool) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if seen[t] || t == nodeType || reflect.PointerTo(t).Implements(unmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return nil
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return checkType(t.Elem(), seen)
	case reflect.Map:
		if err := checkType(t.Key(), seen); err != nil {
			return err
		}
		return checkType(t.Elem(), seen)
	case reflect.Struct:
		info, err := structInfoOf(t)
		if err != nil {
			return err
		}
		for _, key := range info.keys {
			if err := checkType(t.FieldByIndex(info.fields[key]).Type, seen); err != nil {
				return err
			}
		}
		if info.inlineMap != nil {
			return checkType(t.FieldByIndex(info.inlineMap).Type.Elem(), seen)
		}
	}
	return nil
}
