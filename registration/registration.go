package registration

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix/appservice"
)

// Registration is one application service registration.
//
// The embedded appservice.Registration holds the fields (ID, URL, AppToken
// for as_token, ServerToken for hs_token, SenderLocalpart, RateLimited,
// Namespaces, Protocols, EphemeralEvents for receive_ephemeral,
// SoruEphemeralEvents for de.sorunome.msc2409.push_ephemeral, MSC3202,
// MSC4190); pass &r.Registration where mautrix wants one.
//
// An empty URL means the homeserver pushes nothing to this appservice: the
// file said url: null or url: "". [Registration.YAML] writes it as null.
//
// Matching uses the regexes compiled by the last [Parse], [Wrap], [Generate]
// or [Registration.Validate]; after editing Namespaces, call Validate again.
// Matching methods are safe for concurrent use; Validate is not safe to call
// concurrently with them.
type Registration struct {
	appservice.Registration

	source      string
	urlSet      bool // the file had a url key (string or null)
	nsSet       bool // the file had a namespaces mapping
	unknownKeys []string

	ns         compiledNamespaces
	serverName string // set by Validate or Generate
	botUserID  string // "@sender_localpart:serverName" once serverName is known
	validated  bool
}

// Wrap makes a Registration from a mautrix one, copying it. source names it
// in errors (a path, or something like "bridge config"). The url and
// namespaces keys count as present: an empty URL means no push.
func Wrap(reg *appservice.Registration, source string) *Registration {
	r := &Registration{source: source, urlSet: true, nsSet: true}
	if reg != nil {
		r.Registration = copyRegistration(reg)
	}
	_ = r.compile() // a bad regex is reported by Validate
	return r
}

// Clone returns a deep copy of r that shares nothing r's owner may change:
// the same fields, source and unknown keys, and what the file did or did not
// say (a missing url stays missing). The copy is not validated: call
// [Registration.Validate] on it before use. A holder that validates or
// matches while r's owner uses r (the built-in homeserver, handed the
// registrations of the bridges in its process) takes a Clone.
func (r *Registration) Clone() *Registration {
	c := &Registration{
		Registration: copyRegistration(&r.Registration),
		source:       r.source,
		urlSet:       r.urlSet,
		nsSet:        r.nsSet,
		unknownKeys:  slices.Clone(r.unknownKeys),
	}
	_ = c.compile() // a bad regex is reported by Validate
	return c
}

func copyRegistration(reg *appservice.Registration) appservice.Registration {
	c := *reg
	c.Namespaces.UserIDs = slices.Clone(reg.Namespaces.UserIDs)
	c.Namespaces.RoomAliases = slices.Clone(reg.Namespaces.RoomAliases)
	c.Namespaces.RoomIDs = slices.Clone(reg.Namespaces.RoomIDs)
	c.Protocols = slices.Clone(reg.Protocols)
	if reg.RateLimited != nil {
		v := *reg.RateLimited
		c.RateLimited = &v
	}
	return c
}

// Load reads and parses the registration file at path. It checks YAML syntax
// and key types only; call [Registration.Validate] before trusting it.
func Load(path string) (*Registration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("registration %s: %w", path, err)
	}
	return Parse(data, path)
}

// Parse parses registration YAML. source names the file in errors. Unknown
// keys are kept aside (see [Registration.UnknownKeys]), not refused: files
// written for other homeservers carry extras. A known key with the wrong type
// is an [*Error] wrapping ErrWrongType that names the key and line.
func Parse(data []byte, source string) (r *Registration, err error) {
	// yaml.v3 turns its own failures into errors but lets runtime panics
	// through; a malformed third-party file must not take the homeserver down.
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, &Error{Source: source, Problem: fmt.Sprintf("YAML parser failed: %v", p), Fix: "check the file's syntax", Kind: ErrSyntax}
		}
	}()

	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{Source: source, Problem: "not valid YAML: " + oneLine(err.Error()), Fix: "fix the syntax", Kind: ErrSyntax, Err: err}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &Error{Source: source, Problem: "file is empty", Fix: "write the registration (id, url, as_token, hs_token, sender_localpart, namespaces)", Kind: ErrSyntax}
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, &Error{Source: source, Line: root.Line, Problem: "top level is " + describe(root) + ", want a mapping of keys", Fix: "start the file with id:, url:, as_token: ...", Kind: ErrSyntax}
	}

	r = &Registration{source: source}
	if err := r.checkTypes(root); err != nil {
		return nil, err
	}
	if err := root.Decode(&r.Registration); err != nil {
		return nil, &Error{Source: source, Problem: "cannot decode: " + oneLine(err.Error()), Fix: "fix the value's type", Kind: ErrWrongType, Err: err}
	}
	_ = r.compile() // a bad regex is reported by Validate
	return r, nil
}

// Source is the path or name given to [Load], [Parse] or [Wrap].
func (r *Registration) Source() string { return r.source }

// UnknownKeys lists the top-level keys Parse did not recognise, in file
// order. The homeserver may log them; they are not written back by YAML.
func (r *Registration) UnknownKeys() []string { return slices.Clone(r.unknownKeys) }

// NoPush reports whether the homeserver should push nothing to this
// appservice (url: null or empty).
func (r *Registration) NoPush() bool { return r.URL == "" }

// BotUserID is the full user id of the sender_localpart user, or "" before
// [Registration.Validate] or [Generate] has supplied the server name.
func (r *Registration) BotUserID() string { return r.botUserID }

// YAML encodes the registration in the format homeservers load, with the
// same keys mautrix writes, except that an empty url is written as null (the
// spec's "no push"; Synapse treats "" as a URL and tries to reach it).
func (r *Registration) YAML() ([]byte, error) {
	var node yaml.Node
	if err := node.Encode(&r.Registration); err != nil {
		return nil, fmt.Errorf("registration %s: encode: %w", sourceName(r.source), err)
	}
	if r.URL == "" && node.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(node.Content); i += 2 {
			if node.Content[i].Value == "url" {
				node.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
			}
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return nil, fmt.Errorf("registration %s: encode: %w", sourceName(r.source), err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("registration %s: encode: %w", sourceName(r.source), err)
	}
	return buf.Bytes(), nil
}

// Save writes the registration to path atomically: a temporary file in the
// same directory, mode 0600 (it holds both tokens), synced, then renamed over
// path. A reader never sees a half-written file.
func (r *Registration) Save(path string) (err error) {
	data, err := r.YAML()
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("save registration %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("save registration %s: %w", path, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("save registration %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("save registration %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("save registration %s: %w", path, err)
	}
	if err = os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("save registration %s: %w", path, err)
	}
	// Make the rename itself durable; not every platform can sync a directory.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
