package registration

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// valueKind is what a known key must hold. yaml.v3 alone would decode an
// unquoted number into a token string and a null into anything, and its type
// errors do not name the key, so the node tree is checked first.
type valueKind int

const (
	kindString valueKind = iota
	kindURL              // string or explicit null
	kindBool
	kindStringList
	kindNamespaces
)

var topLevelKeys = map[string]valueKind{
	"id":                                 kindString,
	"url":                                kindURL,
	"as_token":                           kindString,
	"hs_token":                           kindString,
	"sender_localpart":                   kindString,
	"rate_limited":                       kindBool,
	"namespaces":                         kindNamespaces,
	"protocols":                          kindStringList,
	"receive_ephemeral":                  kindBool,
	"de.sorunome.msc2409.push_ephemeral": kindBool,
	"org.matrix.msc3202":                 kindBool,
	"io.element.msc4190":                 kindBool,
}

// namespaceKinds are the namespace lists the spec defines; others are
// tolerated and ignored.
var namespaceKinds = []string{"users", "aliases", "rooms"}

func (r *Registration) checkTypes(root *yaml.Node) error {
	if err := r.checkDuplicateKeys("", root); err != nil {
		return err
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		keyNode, val := resolve(root.Content[i]), resolve(root.Content[i+1])
		key := keyNode.Value
		kind, known := topLevelKeys[key]
		if keyNode.Kind != yaml.ScalarNode || !known {
			if keyNode.Kind == yaml.ScalarNode && key != "<<" {
				r.unknownKeys = append(r.unknownKeys, key)
			}
			continue
		}
		if key == "url" {
			r.urlSet = true
		}
		if isNull(val) {
			continue // absent, as far as the rules go; Validate reports required ones
		}
		var err error
		switch kind {
		case kindString, kindURL:
			err = r.wantString(key, val)
		case kindBool:
			err = r.wantBool(key, val)
		case kindStringList:
			err = r.wantStringList(key, val)
		case kindNamespaces:
			r.nsSet = true
			err = r.checkNamespaces(val)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *Registration) checkNamespaces(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return r.typeError("namespaces", n, "a mapping with users, aliases and rooms lists")
	}
	if err := r.checkDuplicateKeys("namespaces.", n); err != nil {
		return err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		keyNode, list := resolve(n.Content[i]), resolve(n.Content[i+1])
		name := keyNode.Value
		if keyNode.Kind != yaml.ScalarNode || !slices.Contains(namespaceKinds, name) || isNull(list) {
			continue
		}
		field := "namespaces." + name
		if list.Kind != yaml.SequenceNode {
			return r.typeError(field, list, "a list of {regex, exclusive} entries")
		}
		for j, item := range list.Content {
			item = resolve(item)
			entry := fmt.Sprintf("%s[%d]", field, j)
			if item.Kind != yaml.MappingNode {
				return r.typeError(entry, item, "a mapping with regex and exclusive")
			}
			if err := r.checkDuplicateKeys(entry+".", item); err != nil {
				return err
			}
			var regex, exclusive *yaml.Node
			for k := 0; k+1 < len(item.Content); k += 2 {
				switch resolve(item.Content[k]).Value {
				case "regex":
					regex = resolve(item.Content[k+1])
				case "exclusive":
					exclusive = resolve(item.Content[k+1])
				}
			}
			if regex == nil || isNull(regex) {
				return &Error{Source: r.source, Line: item.Line, Field: entry + ".regex", Problem: "missing", Fix: "add regex: with the ids this namespace covers", Kind: ErrMissing}
			}
			if err := r.wantString(entry+".regex", regex); err != nil {
				return err
			}
			if exclusive == nil || isNull(exclusive) {
				return &Error{Source: r.source, Line: item.Line, Field: entry + ".exclusive", Problem: "missing", Fix: "add exclusive: true or exclusive: false", Kind: ErrMissing}
			}
			if err := r.wantBool(entry+".exclusive", exclusive); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkDuplicateKeys refuses a key given twice in one mapping. yaml.v3 only
// notices when decoding, with a message that does not say which file.
func (r *Registration) checkDuplicateKeys(prefix string, m *yaml.Node) error {
	seen := make(map[string]int, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := resolve(m.Content[i])
		if k.Kind != yaml.ScalarNode || k.Value == "<<" {
			continue
		}
		if first, dup := seen[k.Value]; dup {
			return &Error{Source: r.source, Line: k.Line, Field: prefix + k.Value, Problem: fmt.Sprintf("given twice (first on line %d)", first), Fix: "keep one", Kind: ErrSyntax}
		}
		seen[k.Value] = k.Line
	}
	return nil
}

func (r *Registration) wantString(field string, n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		return nil
	}
	return r.typeError(field, n, "a string")
}

// yaml11Bools are the YAML 1.1 spellings PyYAML (and so Synapse) reads as
// booleans and yaml.v3 decodes into a bool field.
var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"n": true, "N": true, "no": true, "No": true, "NO": true, "off": true, "Off": true, "OFF": true,
}

func (r *Registration) wantBool(field string, n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		if n.ShortTag() == "!!bool" {
			return nil
		}
		// Only plain, untagged scalars: "yes" in quotes is a string to PyYAML.
		plain := n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle|yaml.TaggedStyle) == 0
		if plain && yaml11Bools[n.Value] {
			return nil
		}
	}
	return r.typeError(field, n, "true or false")
}

func (r *Registration) wantStringList(field string, n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode {
		return r.typeError(field, n, "a list of strings")
	}
	for i, item := range n.Content {
		if err := r.wantString(fmt.Sprintf("%s[%d]", field, i), resolve(item)); err != nil {
			return err
		}
	}
	return nil
}

func (r *Registration) typeError(field string, n *yaml.Node, want string) error {
	got := describe(n)
	fix := "write " + want
	if n.Kind == yaml.ScalarNode && want == "a string" {
		fix = "quote the value"
	}
	return &Error{Source: r.source, Line: n.Line, Field: field, Problem: fmt.Sprintf("is %s, want %s", got, want), Fix: fix, Kind: ErrWrongType}
}

// resolve follows aliases (*anchor) to the node they name. yaml.v3 refuses
// an alias to an anchor that is not yet complete, so there are no cycles;
// the bound is belt and braces.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "null"
		case "!!str":
			return "a string"
		case "!!timestamp":
			return "a date"
		case "!!binary":
			return "binary data"
		default:
			return "a value tagged " + n.ShortTag()
		}
	default:
		return "an unexpected node"
	}
}

// oneLine folds a multi-line library message (yaml.v3 lists each type
// error on its own line) so an error stays one line in logs.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
