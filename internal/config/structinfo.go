package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// The decoder's view of Go struct types: which key goes to which field,
// inline fields included, and what to suggest for a key no field claims.

// structInfo is what the decoder needs to know about a struct type.
//
// A field tagged `yaml:",inline"` (embedded or named) contributes its keys
// to the struct it sits in, as with yaml.v3: a struct or a pointer to one
// (allocated when one of its keys is decoded) adds its fields, recursively;
// a map with string keys takes every key no field claims. A key declared by
// two fields, two inline maps, or an inline field of another type are
// programmer errors, reported when the type is first inspected.
type structInfo struct {
	fields    map[string][]int // yaml key to field index
	keys      []string         // yaml keys in declaration order, inline ones where they are inlined
	inlineMap []int            // index of a ",inline" map taking other keys; nil if none

	goNames map[string]string // yaml key to the Go field declaring it, such as Settings.Enabled, for errors
	mapName string            // the Go field of inlineMap, for errors
}

var structInfos sync.Map // reflect.Type → *structInfo

func structInfoOf(t reflect.Type) (*structInfo, error) {
	if info, ok := structInfos.Load(t); ok {
		return info.(*structInfo), nil
	}
	info := &structInfo{fields: map[string][]int{}, goNames: map[string]string{}}
	if err := info.add(t, t, nil, "", map[reflect.Type]bool{}); err != nil {
		return nil, err
	}
	structInfos.Store(t, info)
	return info, nil
}

// add records the keys of struct t, whose fields sit at index prefix (Go
// path goPrefix) in the outer struct owner, following yaml.v3's tag rules.
// inlining holds the struct types being inlined, to refuse a type that
// inlines itself.
func (info *structInfo) add(owner, t reflect.Type, prefix []int, goPrefix string, inlining map[reflect.Type]bool) error {
	inlining[t] = true
	defer delete(inlining, t)
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, flags, _ := strings.Cut(tag, ",")
		index := append(slices.Clone(prefix), i)
		goName := goPrefix + f.Name
		if slices.Contains(strings.Split(flags, ","), "inline") {
			if err := info.addInline(owner, f, index, goName, inlining); err != nil {
				return err
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if first, dup := info.goNames[name]; dup {
			return fmt.Errorf("key %q is declared twice in %s, by %s and by %s; give one of them another yaml tag", name, owner, first, goName)
		}
		info.fields[name] = index
		info.goNames[name] = goName
		info.keys = append(info.keys, name)
	}
	return nil
}

// addInline records the keys of an inline field f of owner.
func (info *structInfo) addInline(owner reflect.Type, f reflect.StructField, index []int, goName string, inlining map[reflect.Type]bool) error {
	ft := f.Type
	if ft.Kind() == reflect.Map {
		switch {
		case ft.Key().Kind() != reflect.String:
			return fmt.Errorf("field %s of %s cannot be inline: an inline map needs string keys", goName, owner)
		case info.inlineMap != nil:
			return fmt.Errorf("%s has two inline maps, %s and %s; keep one", owner, info.mapName, goName)
		}
		info.inlineMap, info.mapName = index, goName
		return nil
	}
	if ft.Kind() == reflect.Pointer {
		if !f.IsExported() {
			// reflect cannot allocate through an unexported field.
			return fmt.Errorf("field %s of %s cannot be inline: it is a pointer to an unexported type; embed the struct itself", goName, owner)
		}
		ft = ft.Elem()
	}
	if ft.Kind() != reflect.Struct {
		return fmt.Errorf("field %s of %s cannot be inline: only a struct, a pointer to a struct or a map with string keys can", goName, owner)
	}
	if ft == nodeType || reflect.PointerTo(ft).Implements(unmarshalerType) || reflect.PointerTo(ft).Implements(textUnmarshalerType) {
		return fmt.Errorf("field %s of %s cannot be inline: %s decodes itself, so it has no keys to lend", goName, owner, ft)
	}
	if inlining[ft] {
		return fmt.Errorf("field %s of %s cannot be inline: %s would contain itself", goName, owner, ft)
	}
	return info.add(owner, ft, index, goName+".", inlining)
}

// fieldByIndex is v.FieldByIndex, allocating the nil pointers of inline
// structs on the way.
func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

// hint suggests a known key for an unknown one, or lists the known keys.
func (info *structInfo) hint(key string) string {
	if s := suggest(key, info.keys); s != "" {
		return fmt.Sprintf("did you mean %q?", s)
	}
	if len(info.keys) == 0 {
		return "this section takes no keys"
	}
	return "known keys: " + strings.Join(info.keys, ", ")
}

// suggest returns the known key most likely meant by key, or "". A key
// differing only in case wins, then the closest by edit distance (at most 1
// for keys up to 4 letters, 2 for longer ones), then one starting with the
// other.
func suggest(key string, known []string) string {
	lower := strings.ToLower(key)
	for _, k := range known {
		if strings.ToLower(k) == lower {
			return k
		}
	}
	maxDist := 2
	if n := len([]rune(key)); n <= 4 {
		maxDist = min(1, n-1)
	}
	best, bestDist := "", maxDist+1
	for _, k := range known {
		if dist := editDistance(lower, strings.ToLower(k)); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best != "" {
		return best
	}
	if len(lower) >= 3 {
		for _, k := range known {
			lk := strings.ToLower(k)
			if strings.HasPrefix(lk, lower) || strings.HasPrefix(lower, lk) {
				return k
			}
		}
	}
	return ""
}

// editDistance is the number of single-rune insertions, deletions,
// substitutions and swaps of neighbours that turn a into b (the optimal
// string alignment distance): a swap is one typo, as in "clinet".
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
