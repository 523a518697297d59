package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestStrictErrors(t *testing.T) {
	noBridges := Options{LookupEnv: envMap(nil)}
	tests := []struct {
		name string
		doc  string
		opts *Options // nil means testOptions()
		want string
	}{
		// Unknown keys.
		{
			name: "unknown top-level key",
			doc:  "sever_name: example.org\n",
			want: `config: sever_name: unknown key (did you mean "server_name"?)`,
		},
		{
			name: "unknown key differing in case",
			doc:  "Server_Name: example.org\n",
			want: `config: Server_Name: unknown key (did you mean "server_name"?)`,
		},
		{
			name: "unknown nested key",
			doc:  "listen:\n  clinet: 127.0.0.1:8008\n",
			want: `config: listen.clinet: unknown key (did you mean "client"?)`,
		},
		{
			name: "unknown key suggested by prefix",
			doc:  "listen:\n  fed: 0.0.0.0:8448\n",
			want: `config: listen.fed: unknown key (did you mean "federation"?)`,
		},
		{
			name: "unknown key without a suggestion",
			doc:  "listen:\n  port: 8008\n",
			want: `config: listen.port: unknown key (known keys: client, federation)`,
		},
		{
			name: "unknown top-level key lists the keys",
			doc:  "matrix: {}\n",
			want: `config: matrix: unknown key (known keys: server_name, data_dir, public_url, database, listen, registration, appservices, appservice_delivery, log, media, rate_limits, homeserver, appservice, bridges)`,
		},
		{
			name: "unknown key that is not a plain name",
			doc:  "listen:\n  \"a b\": 1\n",
			want: `config: listen["a b"]: unknown key (known keys: client, federation)`,
		},
		{
			name: "unknown key in a list element of a section",
			doc:  "bridges:\n  irc:\n    networks:\n      - id: libera\n        sever: irc.libera.chat:6697\n",
			want: `config: bridges.irc.networks[0].sever: unknown key (did you mean "server"?)`,
		},
		{
			name: "unknown key in a later list element",
			doc:  "bridges:\n  irc:\n    networks:\n      - id: a\n        server: a:1\n      - id: b\n        nick: x\n",
			want: `config: bridges.irc.networks[1].nick: unknown key (known keys: id, server, ports)`,
		},
		{
			name: "unknown key in a merged mapping",
			doc:  "bridges:\n  irc:\n    networks:\n      - &a {id: a, server: a:1}\n      - <<: {id: b, bad: 1}\n        server: b:1\n",
			want: `config: bridges.irc.networks[1].bad: unknown key (known keys: id, server, ports)`,
		},

		// Wrong types.
		{
			name: "bool given a word",
			doc:  "registration:\n  enabled: yes\n",
			want: `config: registration.enabled: expected true or false, got "yes"`,
		},
		{
			name: "bool given a quoted bool",
			doc:  "registration:\n  enabled: \"true\"\n",
			want: `config: registration.enabled: expected true or false, got "true"; remove the quotes`,
		},
		{
			name: "bool given a number",
			doc:  "registration:\n  enabled: 1\n",
			want: `config: registration.enabled: expected true or false, got 1`,
		},
		{
			name: "mapping given a string",
			doc:  "listen: 127.0.0.1:8008\n",
			want: `config: listen: expected a mapping, got a string`,
		},
		{
			name: "mapping given a list",
			doc:  "log: [debug]\n",
			want: `config: log: expected a mapping, got a list`,
		},
		{
			name: "list given a mapping",
			doc:  "appservices: {a: b}\n",
			want: `config: appservices: expected a list, got a mapping`,
		},
		{
			name: "list given a string",
			doc:  "appservices: /etc/a.yaml\n",
			want: `config: appservices: expected a list, got a string`,
		},
		{
			name: "string given a mapping",
			doc:  "server_name: {host: example.org}\n",
			want: `config: server_name: expected a string, got a mapping`,
		},
		{
			name: "string given a list",
			doc:  "listen:\n  client: [127.0.0.1, 8008]\n",
			want: `config: listen.client: expected a string, got a list`,
		},
		{
			name: "list element given a mapping",
			doc:  "appservices:\n  - /a.yaml\n  - {path: /b.yaml}\n",
			want: `config: appservices[1]: expected a string, got a mapping`,
		},
		{
			name: "nested list element of the wrong type",
			doc:  "bridges:\n  irc:\n    networks:\n      - id: a\n        server: a:1\n        ports: [6697, two]\n",
			want: `config: bridges.irc.networks[0].ports[1]: expected an integer, got "two"`,
		},
		{
			name: "integer given a quoted integer",
			doc:  "bridges:\n  irc:\n    port: \"6697\"\n",
			want: `config: bridges.irc.port: expected an integer, got "6697"; remove the quotes`,
		},
		{
			name: "integer given a fraction",
			doc:  "bridges:\n  irc:\n    port: 1.5\n",
			want: `config: bridges.irc.port: expected an integer, got 1.5`,
		},
		{
			name: "unsigned integer too large",
			doc:  "bridges:\n  irc:\n    max_lines: 300\n",
			want: `config: bridges.irc.max_lines: 300 is out of range; use a whole number from 0 to 255`,
		},
		{
			name: "unsigned integer negative",
			doc:  "bridges:\n  irc:\n    max_lines: -1\n",
			want: `config: bridges.irc.max_lines: -1 is out of range; use a whole number from 0 to 255`,
		},
		{
			name: "signed integer too large",
			doc:  "bridges:\n  irc:\n    port: 70000\n",
			want: `config: bridges.irc.port: 70000 is out of range; use a whole number from -32768 to 32767`,
		},
		{
			name: "integer beyond 64 bits",
			doc:  "bridges:\n  irc:\n    networks:\n      - ports: [99999999999999999999]\n",
			want: `config: bridges.irc.networks[0].ports[0]: 99999999999999999999 is out of range; use a whole number from -9223372036854775808 to 9223372036854775807`,
		},
		{
			name: "number given a word",
			doc:  "bridges:\n  irc:\n    ratio: half\n",
			want: `config: bridges.irc.ratio: expected a number, got "half"`,
		},
		{
			name: "number too large for float32",
			doc:  "bridges:\n  irc:\n    ratio: 1e300\n",
			want: `config: bridges.irc.ratio: 1e300 is out of range for this key`,
		},
		{
			name: "duration given a word",
			doc:  "bridges:\n  irc:\n    timeout: x\n",
			want: `config: bridges.irc.timeout: expected a duration such as 30s or 5m, got "x"`,
		},
		{
			name: "duration without a unit",
			doc:  "bridges:\n  irc:\n    timeout: 30\n",
			want: `config: bridges.irc.timeout: expected a duration such as 30s or 5m, got 30; add a unit`,
		},
		{
			name: "map given a list",
			doc:  "bridges:\n  irc:\n    channels: [\"#go\"]\n",
			want: `config: bridges.irc.channels: expected a mapping, got a list`,
		},
		{
			name: "map value of the wrong type",
			doc:  "bridges:\n  irc:\n    channels:\n      \"#go\": [a]\n",
			want: `config: bridges.irc.channels["#go"]: expected a string, got a list`,
		},
		{
			name: "section given a list",
			doc:  "bridges:\n  irc: [a]\n",
			want: `config: bridges.irc: expected a mapping, got a list`,
		},
		{
			name: "bridges given a list",
			doc:  "bridges: [irc]\n",
			want: `config: bridges: expected a mapping, got a list`,
		},
		{
			name: "document is a list",
			doc:  "- server_name: example.org\n",
			want: `config: switchboard.yaml: expected a mapping, got a list`,
		},
		{
			name: "document is a string",
			doc:  "hello\n",
			want: `config: switchboard.yaml: expected a mapping, got a string`,
		},
		{
			name: "key that is a list",
			doc:  "? [a, b]\n: c\n",
			want: `config: switchboard.yaml: a key must be a name, not a list`,
		},
		{
			name: "merge of a string",
			doc:  "listen:\n  <<: x\n",
			want: `config: listen.<<: expected a mapping or a list of mappings to merge, got a string`,
		},

		// Duplicate keys.
		{
			name: "duplicate top-level key",
			doc:  "server_name: a.org\nserver_name: b.org\n",
			want: `config: server_name: duplicate key`,
		},
		{
			name: "duplicate nested key",
			doc:  "log:\n  level: info\n  format: text\n  level: debug\n",
			want: `config: log.level: duplicate key`,
		},
		{
			name: "duplicate key in a list element",
			doc:  "bridges:\n  irc:\n    networks:\n      - id: a\n        id: b\n",
			want: `config: bridges.irc.networks[0].id: duplicate key`,
		},
		{
			name: "duplicate network",
			doc:  "bridges:\n  xmpp: {jid: a@b}\n  xmpp: {jid: c@d}\n",
			want: `config: bridges.xmpp: duplicate key`,
		},
		{
			name: "duplicate map key",
			doc:  "bridges:\n  irc:\n    channels:\n      a: x\n      a: y\n",
			want: `config: bridges.irc.channels.a: duplicate key`,
		},

		// Networks.
		{
			name: "unknown network",
			doc:  "bridges:\n  telegram: {}\n",
			want: `config: bridges.telegram: unknown network (known: irc, slack, xmpp)`,
		},
		{
			name: "network without a connector built in",
			doc:  "bridges:\n  irc: {}\n",
			opts: &noBridges,
			want: `config: bridges.irc: no connector for this network is built into Switchboard yet`,
		},

		// Aliases.
		{
			name: "alias that contains itself",
			doc:  "bridges:\n  irc:\n    tree: &t\n      - items: *t\n",
			want: `config: bridges.irc.tree[0].items[0].items: alias *t refers to a value that contains it; an alias cannot contain itself`,
		},
		{
			name: "merge that contains itself",
			doc:  "listen: &l\n  <<: *l\n",
			want: `config: listen.<<: alias *l refers to a value that contains it; an alias cannot contain itself`,
		},
		{
			name: "alias is followed",
			doc:  "x: &a 1\nlisten:\n  client: &c 127.0.0.1:9000\n  federation: *c\n",
			want: `config: x: unknown key (known keys: server_name, data_dir, public_url, database, listen, registration, appservices, appservice_delivery, log, media, rate_limits, homeserver, appservice, bridges)`,
		},

		// The document.
		{
			name: "two documents",
			doc:  "server_name: a.org\n---\nserver_name: b.org\n",
			want: `config: switchboard.yaml: line 2: a second YAML document starts here; keep the whole configuration in one document`,
		},
		{
			name: "syntax error",
			doc:  "server_name: a.org\nlisten: [\n",
			want: `config: switchboard.yaml: line 2: did not find expected node content`,
		},
		{
			name: "syntax error on the first line",
			doc:  "server_name: a: b\n",
			want: `config: switchboard.yaml: line 1: mapping values are not allowed in this context`,
		},
		{
			name: "unknown anchor",
			doc:  "server_name: a.org\n\nlisten: *nope\n",
			want: `config: switchboard.yaml: line 3: unknown anchor 'nope' referenced`,
		},
		{
			name: "control character",
			doc:  "server_name: a.org\nlog:\n  level: \x01\n",
			want: `config: switchboard.yaml: line 3: control characters are not allowed`,
		},
		{
			name: "invalid UTF-8",
			doc:  "server_name: a.org\n# \xff\n",
			want: `config: switchboard.yaml: line 2: invalid leading UTF-8 octet`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions()
			if tt.opts != nil {
				opts = *tt.opts
			}
			_, err := Parse([]byte(tt.doc), "switchboard.yaml", opts)
			if err == nil {
				t.Fatalf("Parse: no error, want %s", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse error:\n got %s\nwant %s", err, tt.want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("Parse error %T is not an *Error", err)
			}
		})
	}
}

func TestStrictAccepts(t *testing.T) {
	tests := []struct {
		name string
		doc  string
	}{
		{"string given a number", "listen:\n  client: 127.0.0.1:8008\n  federation: \"0.0.0.0:8448\"\nserver_name: 1234\n"},
		{"string given a boolean", "server_name: true\n"},
		{"alias", "server_name: &n example.org\nbridges:\n  irc:\n    networks:\n      - {id: *n, server: a:1}\n"},
		{"merge", "bridges:\n  irc:\n    networks:\n      - &a {id: a, server: a:1}\n      - <<: *a\n        id: b\n"},
		{"merge list", "bridges:\n  irc:\n    networks:\n      - <<: [{id: a}, {server: a:1}]\n"},
		{"null section", "bridges:\n  slack:\n    token: x\n  irc:\n"},
		{"explicit end of document", "server_name: example.org\n...\n"},
		{"hex and underscores", "bridges:\n  irc:\n    port: 0x1F\n    max_lines: 1_0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse([]byte(tt.doc), "switchboard.yaml", testOptions()); err != nil {
				t.Errorf("Parse: %v", err)
			}
		})
	}
}

// TestAliasExpansionIsBounded feeds a document whose aliases expand to a
// billion values: Parse must refuse it, quickly.
func TestAliasExpansionIsBounded(t *testing.T) {
	var doc strings.Builder
	doc.WriteString("bridges:\n  irc:\n    tree:\n")
	doc.WriteString("      - items: &a0 [{}, {}, {}, {}, {}, {}, {}, {}, {}, {}]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&doc, "      - items: &a%d [", i)
		for j := range 10 {
			if j > 0 {
				doc.WriteString(", ")
			}
			fmt.Fprintf(&doc, "{items: *a%d}", i-1)
		}
		doc.WriteString("]\n")
	}
	_, err := Parse([]byte(doc.String()), "switchboard.yaml", testOptions())
	if err == nil || !strings.Contains(err.Error(), "through aliases; use fewer aliases") {
		t.Errorf("Parse error = %v, want one about aliases", err)
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"server", "id", "ports", "federation"}
	tests := []struct{ key, want string }{
		{"sever", "server"},
		{"SERVER", "server"},
		{"servers", "server"},
		{"idd", "id"},
		{"ip", "id"},
		{"x", ""},
		{"fed", "federation"},
		{"federation_address", "federation"},
		{"portz", "ports"},
		{"nick", ""},
		{"bad", ""},
		{"clinet", ""},
		{"sevrer", "server"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := suggest(tt.key, known); got != tt.want {
				t.Errorf("suggest(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}
