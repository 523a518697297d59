package registration

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse. It must never panic, and what
// validates must survive YAML() and Parse unchanged.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "~", "[]", "{}", "- a\n- b\n", "id: [x\n", "a: &a [*a]\n", "<<: {id: x}\n",
		"namespaces:\n  users:\n    - {regex: '(', exclusive: true}\n",
		"namespaces: {users: [{regex: 'a)|(b', exclusive: yes}]}\n",
		"id: x\nurl: null\nas_token: !!binary aGk=\nhs_token: b\nsender_localpart: c\nnamespaces: {}\n",
		"id: \"\\xff\"\nurl: null\nas_token: a\nhs_token: b\nsender_localpart: c\nnamespaces: {}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data, "fuzz")
		if err != nil {
			if r != nil {
				t.Fatal("Parse returned a registration with an error")
			}
			return
		}
		for _, id := range []string{"@a:example.org", "#a:example.org", "!a:example.org", ""} {
			r.IsInterestedInUser(id)
			r.IsExclusiveUser(id)
			r.OwnsUser(id)
			r.IsInterestedInAlias(id)
			r.IsExclusiveAlias(id)
			r.IsInterestedInRoom(id)
			r.IsExclusiveRoom(id)
		}
		if r.Validate("example.org") != nil {
			return
		}
		out, err := r.YAML()
		if err != nil {
			t.Fatalf("YAML of a valid registration: %v", err)
		}
		back, err := Parse(out, "fuzz round trip")
		if err != nil {
			t.Fatalf("Parse(YAML()): %v\n%s", err, out)
		}
		if err := back.Validate("example.org"); err != nil {
			t.Fatalf("Validate after round trip: %v\n%s", err, out)
		}
		if !sameRegistration(&back.Registration, &r.Registration) {
			t.Fatalf("round trip changed the registration:\nbefore %#v\nafter  %#v", r.Registration, back.Registration)
		}
		if _, err := NewSet(r); err != nil {
			t.Fatalf("NewSet of one valid registration: %v", err)
		}
	})
}
