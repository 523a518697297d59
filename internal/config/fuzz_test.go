package config

import (
	"errors"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add(Example())
	f.Add([]byte(""))
	f.Add([]byte("server_name: example.org:8448\nlisten:\n  client: 0.0.0.0:8008\n  federation: 0.0.0.0:8448\n"))
	f.Add([]byte("bridges:\n  irc:\n    networks:\n      - &a {id: a, server: a:1, ports: [1, 0x2]}\n      - <<: *a\n        id: b\n    timeout: 30s\n"))
	f.Add([]byte("bridges:\n  irc:\n    networks:\n      - sever: x\n"))
	f.Add([]byte("bridges:\n  irc:\n    tree: &t\n      - items: *t\n"))
	f.Add([]byte("registration:\n  enabled: yes\n"))
	f.Add([]byte("server_name: a\nserver_name: b\n"))
	f.Add([]byte("a: 1\n---\nb: 2\n"))
	f.Add([]byte("listen: [\n"))
	f.Add([]byte("database:\n  uri: postgres://u:p@/db\n"))
	f.Add([]byte("? [a]\n: b\n"))
	f.Add([]byte("bridges:\n  permissions:\n    \"*\": relay\n    example.org: user\n    \"@admin:example.org\": admin\n"))
	f.Add([]byte("homeserver:\n  url: https://matrix.example.org\nappservice:\n  listen: 0.0.0.0:29300\n  url: http://bridges:29300\n"))
	f.Add([]byte("bridges:\n  web:\n    enabled: true\n    command_prefix: \"!w\"\n  named:\n    timeout: 1m\n    labels: {x: y}\n"))

	opts := inlineOptions()
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "switchboard.yaml", opts)
		if err != nil {
			if c != nil {
				t.Errorf("Parse returned a config and an error: %v", err)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("Parse error %T is not an *Error: %v", err, err)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("Parse error is more than one line: %q", err)
			}
			return
		}
		if err := c.Validate(opts); err != nil {
			t.Errorf("Parse succeeded but Validate fails: %v", err)
		}
		for name := range c.Bridges {
			if err := c.Bridge(name, opts.Bridges[name]()); err != nil {
				t.Errorf("Parse succeeded but Bridge(%q) fails: %v", name, err)
			}
		}
	})
}
