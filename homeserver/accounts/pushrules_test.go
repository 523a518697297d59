package accounts

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/pushrules"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

func ruleIDs(rules pushrules.PushRuleArray) []string {
	var ids []string
	for _, r := range rules {
		ids = append(ids, r.RuleID)
	}
	return ids
}

// The predefined rules parse, have the ids and order of the spec, and
// carry the user's id where the spec puts a placeholder.
func TestDefaultPushRules(t *testing.T) {
	rs, err := defaultPushRules("@alice:example.org")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		kindOverride: {".m.rule.master", ".m.rule.suppress_notices", ".m.rule.invite_for_me", ".m.rule.member_event",
			".m.rule.is_user_mention", ".m.rule.contains_display_name", ".m.rule.is_room_mention", ".m.rule.roomnotif",
			".m.rule.tombstone", ".m.rule.reaction", ".m.rule.room.server_acl", ".m.rule.suppress_edits"},
		kindContent:   {".m.rule.contains_user_name"},
		kindUnderride: {".m.rule.call", ".m.rule.encrypted_room_one_to_one", ".m.rule.room_one_to_one", ".m.rule.message", ".m.rule.encrypted"},
	}
	for kind, ids := range want {
		var got []string
		for _, r := range *rs.kind(kind) {
			got = append(got, r.RuleID)
			if !r.Default {
				t.Errorf("%s is not marked default", r.RuleID)
			}
		}
		if !slices.Equal(got, ids) {
			t.Errorf("%s rules %v, want %v", kind, got, ids)
		}
	}
	invite := rs.find(kindOverride, ".m.rule.invite_for_me")
	var conds []map[string]any
	_ = json.Unmarshal(invite.Conditions, &conds)
	if conds[2]["pattern"] != "@alice:example.org" {
		t.Errorf("invite_for_me conditions %s", invite.Conditions)
	}
	if p := rs.find(kindContent, ".m.rule.contains_user_name").Pattern; p == nil || *p != "alice" {
		t.Errorf("contains_user_name pattern %v", p)
	}
	master := rs.find(kindOverride, ".m.rule.master")
	if master.Enabled || string(master.Conditions) != "[]" || string(master.Actions) != "[]" {
		t.Errorf("master %+v", master)
	}
}

func TestPushRules(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db)
		ctx := context.Background()
		alice := s.register(t, "alice", "correct horse")

		rs, err := alice.GetPushRules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ids := ruleIDs(rs.Override); len(ids) != 12 || ids[0] != ".m.rule.master" {
			t.Fatalf("override %v", ids)
		}
		if ids := ruleIDs(rs.Underride); len(ids) != 5 || ids[3] != ".m.rule.message" {
			t.Errorf("underride %v", ids)
		}
		r := s.do(t, "GET", "/_matrix/client/v3/pushrules/", alice.AccessToken, nil)
		if global, _ := r.body["global"].(map[string]any); r.status != 200 || global["override"] == nil || global["room"] == nil {
			t.Errorf("GET /pushrules/: %d %s", r.status, r.raw)
		}
		// The highlight tweak keeps the spec's form: no "value": null.
		r = s.do(t, "GET", "/_matrix/client/v3/pushrules/global/override/.m.rule.is_user_mention", alice.AccessToken, nil)
		if actions, _ := r.body["actions"].([]any); r.status != 200 || len(actions) != 3 {
			t.Fatalf("is_user_mention: %s", r.raw)
		} else if tweak := actions[2].(map[string]any); len(tweak) != 1 || tweak["set_tweak"] != "highlight" {
			t.Errorf("highlight tweak %v", tweak)
		}

		// Predefined rules: enable, change actions, but not delete or overwrite.
		if err := alice.SetPushRuleEnabled(ctx, "global", pushrules.OverrideRule, ".m.rule.master", true); err != nil {
			t.Fatal(err)
		}
		if err := alice.PutPushRuleActions(ctx, "global", pushrules.UnderrideRule, ".m.rule.message", []*pushrules.PushAction{}); err != nil {
			t.Fatal(err)
		}
		err = alice.DeletePushRule(ctx, "global", pushrules.OverrideRule, ".m.rule.master")
		wantErr(t, err, "M_INVALID_PARAM", 400)
		err = alice.PutPushRule(ctx, "global", pushrules.OverrideRule, ".m.rule.mine", &mautrix.ReqPutPushRule{Actions: []*pushrules.PushAction{}})
		wantErr(t, err, "M_INVALID_PARAM", 400)
		err = alice.SetPushRuleEnabled(ctx, "global", pushrules.UnderrideRule, ".m.rule.master", true)
		wantErr(t, err, "M_NOT_FOUND", 404)

		// The user's own rules, in order.
		put := func(kind pushrules.PushRuleType, ruleID string, req *mautrix.ReqPutPushRule) {
			t.Helper()
			if err := alice.PutPushRule(ctx, "global", kind, ruleID, req); err != nil {
				t.Fatalf("put %s %s: %v", kind, ruleID, err)
			}
		}
		notify := []*pushrules.PushAction{{Action: pushrules.ActionNotify}}
		cond := []*pushrules.PushCondition{{Kind: pushrules.KindEventMatch, Key: "type", Pattern: "m.room.message"}}
		put(pushrules.OverrideRule, "one", &mautrix.ReqPutPushRule{Actions: notify, Conditions: cond})
		put(pushrules.OverrideRule, "two", &mautrix.ReqPutPushRule{Actions: notify}) // new rules go first
		put(pushrules.OverrideRule, "three", &mautrix.ReqPutPushRule{Actions: notify, After: "one"})
		put(pushrules.OverrideRule, "four", &mautrix.ReqPutPushRule{Actions: notify, Before: "one"})
		put(pushrules.OverrideRule, "two", &mautrix.ReqPutPushRule{Actions: []*pushrules.PushAction{}}) // update in place
		put(pushrules.ContentRule, "cake", &mautrix.ReqPutPushRule{Actions: notify, Pattern: "cake*lie"})
		put(pushrules.RoomRule, "!quiet:example.org", &mautrix.ReqPutPushRule{Actions: []*pushrules.PushAction{}})
		put(pushrules.SenderRule, "@bob:example.org", &mautrix.ReqPutPushRule{Actions: notify})
		err = alice.PutPushRule(ctx, "global", pushrules.OverrideRule, "five", &mautrix.ReqPutPushRule{Actions: notify, Before: "nosuch"})
		wantErr(t, err, "M_UNKNOWN", 400)
		err = alice.PutPushRule(ctx, "global", pushrules.OverrideRule, "five", &mautrix.ReqPutPushRule{Actions: notify, After: ".m.rule.master"})
		wantErr(t, err, "M_INVALID_PARAM", 400)
		err = alice.PutPushRule(ctx, "global", pushrules.ContentRule, "nopattern", &mautrix.ReqPutPushRule{Actions: notify})
		wantErr(t, err, "M_MISSING_PARAM", 400)

		check := func(s *server, cli *mautrix.Client) {
			t.Helper()
			rs, err := cli.GetPushRules(ctx)
			if err != nil {
				t.Fatal(err)
			}
			wantOverride := []string{".m.rule.master", "two", "four", "one", "three", ".m.rule.suppress_notices"}
			if ids := ruleIDs(rs.Override); !slices.Equal(ids[:6], wantOverride) {
				t.Errorf("override order %v, want %v first", ids, wantOverride)
			}
			if !rs.Override[0].Enabled {
				t.Error(".m.rule.master not enabled")
			}
			if rs.Override[1].Default || len(rs.Override[1].Actions) != 0 || !rs.Override[1].Enabled {
				t.Errorf("rule two %+v", rs.Override[1])
			}
			if ids := ruleIDs(rs.Content); !slices.Equal(ids, []string{"cake", ".m.rule.contains_user_name"}) || rs.Content[0].Pattern != "cake*lie" {
				t.Errorf("content %v", ids)
			}
			if len(rs.Room.Map) != 1 || rs.Room.Map["!quiet:example.org"] == nil || len(rs.Sender.Map) != 1 {
				t.Errorf("room %v sender %v", rs.Room.Map, rs.Sender.Map)
			}
			for _, rule := range rs.Underride {
				if rule.RuleID == ".m.rule.message" && len(rule.Actions) != 0 {
					t.Errorf(".m.rule.message actions %v", rule.Actions)
				}
			}
			one, err := cli.GetPushRule(ctx, "global", pushrules.OverrideRule, "one")
			if err != nil || len(one.Conditions) != 1 || one.Conditions[0].Pattern != "m.room.message" {
				t.Errorf("rule one %+v %v", one, err)
			}
		}
		check(s, alice)
		// The changes persist: a new Accounts on the same database sees them.
		restarted := newServer(t, db)
		check(restarted, restarted.client(t, alice.UserID, alice.AccessToken))

		// Enabled and actions endpoints.
		r = s.do(t, "GET", "/_matrix/client/v3/pushrules/global/override/one/enabled", alice.AccessToken, nil)
		if r.status != 200 || r.body["enabled"] != true {
			t.Errorf("enabled: %s", r.raw)
		}
		if err := alice.SetPushRuleEnabled(ctx, "global", pushrules.OverrideRule, "one", false); err != nil {
			t.Fatal(err)
		}
		r = s.do(t, "GET", "/_matrix/client/v3/pushrules/global/override/one/enabled", alice.AccessToken, nil)
		if r.body["enabled"] != false {
			t.Errorf("disabled: %s", r.raw)
		}
		// An update keeps the enabled flag.
		put(pushrules.OverrideRule, "one", &mautrix.ReqPutPushRule{Actions: notify})
		r = s.do(t, "GET", "/_matrix/client/v3/pushrules/global/override/one", alice.AccessToken, nil)
		if r.body["enabled"] != false || r.body["conditions"] == nil {
			t.Errorf("after update: %s", r.raw)
		}
		r = s.do(t, "PUT", "/_matrix/client/v3/pushrules/global/override/one/actions", alice.AccessToken,
			map[string]any{"actions": []any{"notify", "dont_notify", map[string]any{"set_tweak": "sound", "value": "bing"}}})
		wantStatus(t, "set actions", r, 200, "")
		r = s.do(t, "GET", "/_matrix/client/v3/pushrules/global/override/one/actions", alice.AccessToken, nil)
		if actions, _ := r.body["actions"].([]any); len(actions) != 2 || actions[0] != "notify" {
			t.Errorf("actions (dont_notify dropped): %s", r.raw)
		}
		r = s.do(t, "PUT", "/_matrix/client/v3/pushrules/global/override/one/actions", alice.AccessToken, map[string]any{"actions": []any{"explode"}})
		wantStatus(t, "unknown action", r, 400, "M_INVALID_PARAM")
		r = s.do(t, "PUT", "/_matrix/client/v3/pushrules/global/override/one/enabled", alice.AccessToken, map[string]any{})
		wantStatus(t, "enabled missing", r, 400, "M_MISSING_PARAM")
		r = s.do(t, "GET", "/_matrix/client/v3/pushrules/global/sideways/one", alice.AccessToken, nil)
		wantStatus(t, "unknown kind", r, 400, "M_INVALID_PARAM")
		r = s.do(t, "GET", "/_matrix/client/v3/pushrules/global/override/nosuch", alice.AccessToken, nil)
		wantStatus(t, "unknown rule", r, 404, "M_NOT_FOUND")

		// Delete a user rule.
		if err := alice.DeletePushRule(ctx, "global", pushrules.OverrideRule, "three"); err != nil {
			t.Fatal(err)
		}
		_, err = alice.GetPushRule(ctx, "global", pushrules.OverrideRule, "three")
		wantErr(t, err, "M_NOT_FOUND", 404)
		err = alice.DeletePushRule(ctx, "global", pushrules.OverrideRule, "three")
		wantErr(t, err, "M_NOT_FOUND", 404)

		// Changes reach /sync as m.push_rules.
		before := s.AccountDataPosition()
		if err := alice.SetPushRuleEnabled(ctx, "global", pushrules.OverrideRule, ".m.rule.master", false); err != nil {
			t.Fatal(err)
		}
		global, _, _, err := s.AccountDataSince(ctx, alice.UserID, before)
		if err != nil || len(global) != 1 || global[0].Type.Type != "m.push_rules" {
			t.Fatalf("account data after a push rule change: %v %v", global, err)
		}
		var content pushrules.EventContent
		if err := json.Unmarshal(global[0].Content.VeryRaw, &content); err != nil || content.Ruleset.Override[0].Enabled {
			t.Errorf("m.push_rules content %s: %v", global[0].Content.VeryRaw, err)
		}
	})
}

// Another user's rules are not touched by alice's changes.
func TestPushRulesArePerUser(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db)
		ctx := context.Background()
		alice := s.register(t, "alice", "correct horse")
		bob := s.register(t, "bob", "correct horse")
		if err := alice.SetPushRuleEnabled(ctx, "global", pushrules.OverrideRule, ".m.rule.master", true); err != nil {
			t.Fatal(err)
		}
		rs, err := bob.GetPushRules(ctx)
		if err != nil || rs.Override[0].Enabled {
			t.Errorf("bob's master rule enabled by alice: %v", err)
		}
		rule, err := bob.GetPushRule(ctx, "global", pushrules.OverrideRule, ".m.rule.invite_for_me")
		if err != nil || rule.Conditions[2].Pattern != id.UserID("@bob:example.org").String() {
			t.Errorf("bob's invite rule %+v %v", rule, err)
		}
	})
}
