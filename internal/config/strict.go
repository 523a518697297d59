package config

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// The strict decoder walks the yaml.Node tree itself instead of leaving it to
// yaml.v3: yaml.v3 can refuse unknown keys (KnownFields), but its errors name
// a line and a Go type, not the key path a user needs to find and fix the
// mistake. The walk decodes as it checks, so what it accepts is exactly what
// lands in the struct; yaml.v3 still reads the odd leaf (floats, any).
//
// The rules:
//   - A key the target does not have is refused, with a suggestion.
//   - A key given twice in one mapping is refused.
//   - A value must have the shape of its target: a mapping for a struct or a
//     map, a list for a slice, true/false for a bool, a number for a number.
//     A string takes any scalar (8008 is the string "8008").
//   - null (a key with no value) leaves the target as it was, so a key with
//     nothing after it behaves like a key left out: the default stays.
//   - Decoding overlays: struct fields and map entries not mentioned keep their
//     value; a list replaces the list it lands on.
//   - Aliases are followed and merge keys (<<) honoured, with explicit keys
//     winning over merged ones.
//   - Types implementing yaml.Unmarshaler or encoding.TextUnmarshaler decode
//     themselves; their errors get the key path.
//   - A struct field tagged `yaml:",inline"` lends its keys to the struct
//     around it, as in yaml.v3 (see structInfo): a network section embeds
//     the settings every network shares that way.

var (
	nodeType            = reflect.TypeFor[yaml.Node]()
	bridgesType         = reflect.TypeFor[Bridges]()
	unmarshalerType     = reflect.TypeFor[yaml.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// maxVisits bounds the work one document may cause. Aliases let a small file
// expand into an enormous tree ("billion laughs"); no honest configuration
// comes near this.
const maxVisits = 1 << 20

// decoder holds the state of one strict decode.
type decoder struct {
	// root names the document in errors about the document itself, where
	// there is no key path yet.
	root string
	// bridges are the network sections a Bridges map may hold.
	bridges map[string]func() any
	// permissions receives bridges.permissions, which is not a network
	// section; nil when the document is not a whole configuration.
	permissions *map[string]string
	// expanding holds the anchored nodes being decoded through an alias, to
	// refuse an alias that contains itself.
	expanding map[*yaml.Node]bool
	visits    int
}

func newDecoder(root string, bridges map[string]func() any) *decoder {
	return &decoder{root: root, bridges: bridges, expanding: map[*yaml.Node]bool{}}
}

func (d *decoder) errorf(path, format string, args ...any) *Error {
	if path == "" {
		path = d.root
	}
	return errorf(path, fmt.Sprintf(format, args...))
}

// follow calls fn with n, or with the node n's alias refers to.
func (d *decoder) follow(n *yaml.Node, path string, fn func(*yaml.Node) error) error {
	d.visits++
	if d.visits > maxVisits {
		return d.errorf(path, "the document expands to more than %d values through aliases; use fewer aliases", maxVisits)
	}
	if n.Kind != yaml.AliasNode {
		return fn(n)
	}
	target := n.Alias
	if target == nil {
		return d.errorf(path, "alias *%s refers to no anchor", n.Value)
	}
	if d.expanding[target] {
		return d.errorf(path, "alias *%s refers to a value that contains it; an alias cannot contain itself", n.Value)
	}
	d.expanding[target] = true
	defer delete(d.expanding, target)
	return d.follow(target, path, fn)
}

// decode decodes n into v, which must be addressable.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) error {
	return d.follow(n, path, func(n *yaml.Node) error { return d.decodeValue(n, v, path) })
}

func (d *decoder) decodeValue(n *yaml.Node, v reflect.Value, path string) error {
	t := v.Type()
	if t == nodeType {
		v.Set(reflect.ValueOf(*n))
		return nil
	}
	if isNull(n) {
		return nil
	}
	if t.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return d.decode(n, v.Elem(), path)
	}
	if t == bridgesType {
		return d.decodeBridges(n, v, path)
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		err := v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n)
		return d.wrap(path, err)
	}
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		if n.Kind != yaml.ScalarNode {
			return d.expectedShape(path, "a string", n)
		}
		err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value))
		return d.wrap(path, err)
	}

	switch t.Kind() {
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			return d.expectedShape(path, "a string", n)
		}
		v.SetString(n.Value)
	case reflect.Bool:
		b, ok := parseBool(n)
		if !ok {
			return d.notBool(n, path)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return d.decodeInt(n, v, path)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return d.decodeUint(n, v, path)
	case reflect.Float32, reflect.Float64:
		return d.decodeFloat(n, v, path)
	case reflect.Struct:
		return d.decodeStruct(n, v, path)
	case reflect.Map:
		return d.decodeMap(n, v, path)
	case reflect.Slice:
		return d.decodeSlice(n, v, path)
	case reflect.Array:
		return d.decodeArray(n, v, path)
	case reflect.Interface:
		if t.NumMethod() != 0 {
			return d.errorf(path, "cannot hold a value of Go type %s (a Switchboard bug)", t)
		}
		var x any
		if err := n.Decode(&x); err != nil {
			return d.wrap(path, err)
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		return d.errorf(path, "cannot hold a value of Go type %s (a Switchboard bug)", t)
	}
	return nil
}

// wrap gives an error from a type's own decoding the key path it is about.
func (d *decoder) wrap(path string, err error) error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:")
	msg = strings.TrimPrefix(msg, "yaml: ")
	return d.errorf(path, "%s", oneLine(msg))
}

// expected reports a value of the wrong type, quoting a scalar where a
// scalar was expected and naming its kind where a mapping or list was.
func (d *decoder) expected(path, what string, n *yaml.Node) error {
	return d.errorf(path, "expected %s, got %s", what, describe(n))
}

func (d *decoder) expectedShape(path, what string, n *yaml.Node) error {
	return d.errorf(path, "expected %s, got %s", what, shape(n))
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func isQuoted(n *yaml.Node) bool {
	return n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0
}

// describe says what a node is, for "expected X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := n.Value
		if r := []rune(v); len(r) > 40 {
			v = string(r[:40]) + "..."
		}
		if n.ShortTag() == "!!str" {
			return strconv.Quote(v)
		}
		return v
	}
	return "an empty value"
}

// shape says what kind of value a node is, for "expected a mapping, got Y".
func shape(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return "a string"
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "true or false"
		}
		return "a single value"
	}
	return "an empty value"
}

// parseBool accepts YAML 1.2 booleans only: yaml.v3 would also take yes, no,
// on and off into a bool, which a strict config should not guess at.
func parseBool(n *yaml.Node) (value, ok bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		return false, false
	}
	switch strings.ToLower(n.Value) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// intText returns the digits of an integer scalar as strconv reads them, and
// whether the node is an integer at all. A quoted number is a string.
func intText(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		return "", false
	}
	switch n.ShortTag() {
	case "!!int":
	case "!!float":
		// yaml.v3 calls integers too large for 64 bits floats; they are
		// integers out of range here.
		if !decimalDigits.MatchString(n.Value) {
			return "", false
		}
	default:
		return "", false
	}
	return strings.ReplaceAll(n.Value, "_", ""), true
}

var decimalDigits = regexp.MustCompile(`^[-+]?[0-9][0-9_]*$`)

func (d *decoder) notBool(n *yaml.Node, path string) error {
	if n.Kind == yaml.ScalarNode && isQuoted(n) {
		if v := strings.ToLower(n.Value); v == "true" || v == "false" {
			return d.errorf(path, "expected true or false, got %s; remove the quotes", describe(n))
		}
	}
	return d.expected(path, "true or false", n)
}

func (d *decoder) notInteger(n *yaml.Node, path string) error {
	if n.Kind == yaml.ScalarNode && isQuoted(n) {
		if _, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			return d.errorf(path, "expected an integer, got %s; remove the quotes", describe(n))
		}
	}
	return d.expected(path, "an integer", n)
}

func (d *decoder) decodeInt(n *yaml.Node, v reflect.Value, path string) error {
	text, ok := intText(n)
	if !ok {
		return d.notInteger(n, path)
	}
	bits := v.Type().Bits()
	lo, hi := int64(-1)<<(bits-1), int64(1)<<(bits-1)-1
	i, err := strconv.ParseInt(text, 0, 64)
	if err != nil || v.OverflowInt(i) {
		return d.errorf(path, "%s is out of range; use a whole number from %d to %d", n.Value, lo, hi)
	}
	v.SetInt(i)
	return nil
}

func (d *decoder) decodeUint(n *yaml.Node, v reflect.Value, path string) error {
	text, ok := intText(n)
	if !ok {
		return d.notInteger(n, path)
	}
	hi := uint64(math.MaxUint64) >> (64 - v.Type().Bits())
	u, err := strconv.ParseUint(strings.TrimPrefix(text, "+"), 0, 64)
	if err != nil || v.OverflowUint(u) {
		return d.errorf(path, "%s is out of range; use a whole number from 0 to %d", n.Value, hi)
	}
	v.SetUint(u)
	return nil
}

func (d *decoder) decodeFloat(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!float" && n.ShortTag() != "!!int") {
		return d.expected(path, "a number", n)
	}
	var f float64
	if err := n.Decode(&f); err != nil {
		return d.expected(path, "a number", n)
	}
	if v.OverflowFloat(f) {
		return d.errorf(path, "%s is out of range for this key", n.Value)
	}
	v.SetFloat(f)
	return nil
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.SequenceNode {
		return d.expectedShape(path, "a list", n)
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		if err := d.decode(item, s.Index(i), indexPath(path, i)); err != nil {
			return err
		}
	}
	v.Set(s)
	return nil
}

func (d *decoder) decodeArray(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.SequenceNode {
		return d.expectedShape(path, "a list", n)
	}
	if len(n.Content) != v.Len() {
		return d.errorf(path, "expected a list of %d items, got %d", v.Len(), len(n.Content))
	}
	a := reflect.New(v.Type()).Elem()
	for i, item := range n.Content {
		if err := d.decode(item, a.Index(i), indexPath(path, i)); err != nil {
			return err
		}
	}
	v.Set(a)
	return nil
}

// eachPair calls fn for every key of mapping n: first the keys merged in
// with <<, then its own, so its own win. A key given twice is refused.
func (d *decoder) eachPair(n *yaml.Node, path string, fn func(key string, keyNode, value *yaml.Node) error) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !isMerge(n.Content[i]) {
			continue
		}
		if err := d.merge(n.Content[i+1], path, fn); err != nil {
			return err
		}
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if isMerge(n.Content[i]) {
			continue
		}
		var key string
		var keyNode *yaml.Node
		err := d.follow(n.Content[i], path, func(k *yaml.Node) error {
			if k.Kind != yaml.ScalarNode {
				return d.errorf(path, "a key must be a name, not %s", shape(k))
			}
			key, keyNode = k.Value, k
			return nil
		})
		if err != nil {
			return err
		}
		if seen[key] {
			return d.errorf(keyPath(path, key), "duplicate key")
		}
		seen[key] = true
		if err := fn(key, keyNode, n.Content[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge"
}

// merge feeds the pairs of a << value, a mapping or a list of mappings, to fn.
func (d *decoder) merge(value *yaml.Node, path string, fn func(key string, keyNode, value *yaml.Node) error) error {
	mergePath := "<<"
	if path != "" {
		mergePath = path + ".<<"
	}
	return d.follow(value, mergePath, func(m *yaml.Node) error {
		switch m.Kind {
		case yaml.MappingNode:
			return d.eachPair(m, path, fn)
		case yaml.SequenceNode:
			for _, item := range m.Content {
				err := d.follow(item, mergePath, func(im *yaml.Node) error {
					if im.Kind != yaml.MappingNode {
						return d.expectedShape(mergePath, "a mapping or a list of mappings to merge", im)
					}
					return d.eachPair(im, path, fn)
				})
				if err != nil {
					return err
				}
			}
			return nil
		}
		return d.expectedShape(mergePath, "a mapping or a list of mappings to merge", m)
	})
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return d.expectedShape(path, "a mapping", n)
	}
	info, err := structInfoOf(v.Type())
	if err != nil {
		return d.errorf(path, "%v (a Switchboard bug)", err)
	}
	return d.eachPair(n, path, func(key string, _, value *yaml.Node) error {
		p := keyPath(path, key)
		if index, ok := info.fields[key]; ok {
			return d.decode(value, fieldByIndex(v, index), p)
		}
		if info.inlineMap != nil {
			return d.decodeMapEntry(fieldByIndex(v, info.inlineMap), key, value, p)
		}
		return d.errorf(p, "unknown key (%s)", info.hint(key))
	})
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return d.expectedShape(path, "a mapping", n)
	}
	return d.eachPair(n, path, func(key string, keyNode, value *yaml.Node) error {
		p := keyPath(path, key)
		if v.Type().Key().Kind() != reflect.String {
			return d.decodeMapEntryNode(v, keyNode, value, p)
		}
		return d.decodeMapEntry(v, key, value, p)
	})
}

// decodeMapEntry decodes value over the entry key of map m, making the map
// if it is nil.
func (d *decoder) decodeMapEntry(m reflect.Value, key string, value *yaml.Node, path string) error {
	return d.setMapEntry(m, reflect.ValueOf(key).Convert(m.Type().Key()), value, path)
}

func (d *decoder) decodeMapEntryNode(m reflect.Value, keyNode, value *yaml.Node, path string) error {
	k := reflect.New(m.Type().Key()).Elem()
	if err := d.decode(keyNode, k, path); err != nil {
		return err
	}
	return d.setMapEntry(m, k, value, path)
}

func (d *decoder) setMapEntry(m, k reflect.Value, value *yaml.Node, path string) error {
	if m.IsNil() {
		m.Set(reflect.MakeMap(m.Type()))
	}
	elem := reflect.New(m.Type().Elem()).Elem()
	if old := m.MapIndex(k); old.IsValid() {
		elem.Set(old)
	}
	if err := d.decode(value, elem, path); err != nil {
		return err
	}
	m.SetMapIndex(k, elem)
	return nil
}

// decodeBridges checks each network section against the schema its connector
// supplies, and keeps the section's node for Config.Bridge.
func (d *decoder) decodeBridges(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return d.expectedShape(path, "a mapping", n)
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(bridgesType))
	}
	return d.eachPair(n, path, func(name string, _, value *yaml.Node) error {
		p := keyPath(path, name)
		if name == permissionsKey {
			into := d.permissions
			if into == nil {
				into = new(map[string]string)
			}
			return d.decode(value, reflect.ValueOf(into).Elem(), p)
		}
		section, err := newSection(d.bridges, name, p)
		if err != nil {
			return err
		}
		if err := d.decode(value, section.Elem(), p); err != nil {
			return err
		}
		v.SetMapIndex(reflect.ValueOf(name), reflect.ValueOf(*value))
		return nil
	})
}

// newSection makes the empty section of network name, at path, from the
// connectors built in.
func newSection(bridges map[string]func() any, name, path string) (reflect.Value, error) {
	newFn, ok := bridges[name]
	if !ok {
		if suggest(name, []string{permissionsKey}) == permissionsKey {
			return reflect.Value{}, errorf(path, fmt.Sprintf("unknown network (did you mean %q?)", permissionsKey))
		}
		if len(bridges) == 0 {
			return reflect.Value{}, errorf(path, "no connector for this network is built into Switchboard yet")
		}
		known := make([]string, 0, len(bridges))
		for k := range bridges {
			known = append(known, k)
		}
		sort.Strings(known)
		return reflect.Value{}, errorf(path, "unknown network (known: "+strings.Join(known, ", ")+")")
	}
	section := reflect.ValueOf(newFn())
	if section.Kind() != reflect.Pointer || section.IsNil() {
		return reflect.Value{}, errorf(path, fmt.Sprintf("the connector's section is a %T, not a non-nil pointer (a Switchboard bug)", newFn()))
	}
	return section, nil
}

// keyPath appends a mapping key to a path. Keys that are not plain names are
// quoted, so the path stays readable and unambiguous.
func keyPath(path, key string) string {
	if !plainKey(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func plainKey(key string) bool {
	if key == "" {
		return false
	}
	for _, r := range key {
		if r != '_' && r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}
