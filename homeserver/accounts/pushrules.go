package accounts

import (
	"bytes"
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// Push rules: the spec's predefined rules (pushrules_default.json, copied
// from the spec's "Predefined Rules" section, v1.12) plus the rules each
// user creates. A user may disable or re-action a predefined rule — that
// change is stored in hs_push_rule_defaults — but not delete it. Every
// change is also written to the account data stream as m.push_rules, so
// /sync delivers it.

//go:embed pushrules_default.json
var defaultPushRulesJSON []byte

// The placeholders the spec writes in its rule definitions.
var (
	placeholderUserID    = []byte(`"[the user's Matrix ID]"`)
	placeholderLocalpart = []byte(`"[the local part of the user's Matrix ID]"`)
)

const (
	kindOverride  = "override"
	kindContent   = "content"
	kindRoom      = "room"
	kindSender    = "sender"
	kindUnderride = "underride"

	maxRuleIDBytes  = 255
	maxPatternBytes = 1000
)

const (
	listPushRulesQuery = `
		SELECT kind, rule_id, enabled, actions, conditions, pattern FROM hs_push_rules
		WHERE user_id = $1 ORDER BY kind, position, rule_id`
	listPushRuleDefaultsQuery = `SELECT kind, rule_id, enabled, actions FROM hs_push_rule_defaults WHERE user_id = $1`
	listKindQuery             = `SELECT rule_id FROM hs_push_rules WHERE user_id = $1 AND kind = $2 ORDER BY position, rule_id`
	upsertPushRuleQuery       = `
		INSERT INTO hs_push_rules (user_id, kind, rule_id, position, enabled, actions, conditions, pattern)
		VALUES ($1, $2, $3, 0, true, $4, $5, $6)
		ON CONFLICT (user_id, kind, rule_id) DO UPDATE
		SET actions = excluded.actions, conditions = excluded.conditions, pattern = excluded.pattern`
	setPushRulePositionQuery   = `UPDATE hs_push_rules SET position = $4 WHERE user_id = $1 AND kind = $2 AND rule_id = $3`
	deletePushRuleQuery        = `DELETE FROM hs_push_rules WHERE user_id = $1 AND kind = $2 AND rule_id = $3`
	setPushRuleEnabledQuery    = `UPDATE hs_push_rules SET enabled = $4 WHERE user_id = $1 AND kind = $2 AND rule_id = $3`
	setPushRuleActionsQuery    = `UPDATE hs_push_rules SET actions = $4 WHERE user_id = $1 AND kind = $2 AND rule_id = $3`
	upsertPushRuleDefaultQuery = `
		INSERT INTO hs_push_rule_defaults (user_id, kind, rule_id, enabled, actions) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id, kind, rule_id) DO UPDATE
		SET enabled = COALESCE(excluded.enabled, hs_push_rule_defaults.enabled),
		    actions = COALESCE(excluded.actions, hs_push_rule_defaults.actions)`
)

// pushRule is a rule as the API shows it.
type pushRule struct {
	RuleID     string          `json:"rule_id"`
	Default    bool            `json:"default"`
	Enabled    bool            `json:"enabled"`
	Conditions json.RawMessage `json:"conditions,omitempty"`
	Pattern    *string         `json:"pattern,omitempty"`
	Actions    json.RawMessage `json:"actions"`
}

// pushRuleset is the global ruleset, each kind in priority order.
type pushRuleset struct {
	Override  []pushRule `json:"override"`
	Content   []pushRule `json:"content"`
	Room      []pushRule `json:"room"`
	Sender    []pushRule `json:"sender"`
	Underride []pushRule `json:"underride"`
}

func (rs *pushRuleset) kind(kind string) *[]pushRule {
	switch kind {
	case kindOverride:
		return &rs.Override
	case kindContent:
		return &rs.Content
	case kindRoom:
		return &rs.Room
	case kindSender:
		return &rs.Sender
	case kindUnderride:
		return &rs.Underride
	}
	return nil
}

// find returns the rule of kind with ruleID, or nil.
func (rs *pushRuleset) find(kind, ruleID string) *pushRule {
	rules := rs.kind(kind)
	if rules == nil {
		return nil
	}
	for i := range *rules {
		if (*rules)[i].RuleID == ruleID {
			return &(*rules)[i]
		}
	}
	return nil
}

func validKind(kind string) bool {
	switch kind {
	case kindOverride, kindContent, kindRoom, kindSender, kindUnderride:
		return true
	}
	return false
}

// defaultPushRules is the predefined ruleset of userID.
func defaultPushRules(userID id.UserID) (pushRuleset, error) {
	userJSON, _ := json.Marshal(userID.String())
	localpartJSON, _ := json.Marshal(userID.Localpart())
	data := bytes.ReplaceAll(defaultPushRulesJSON, placeholderUserID, userJSON)
	data = bytes.ReplaceAll(data, placeholderLocalpart, localpartJSON)
	var rs pushRuleset
	if err := json.Unmarshal(data, &rs); err != nil {
		return pushRuleset{}, fmt.Errorf("predefined push rules: %w", err)
	}
	return rs, nil
}

// pushRules builds userID's ruleset: the predefined rules with the user's
// changes, and the user's own rules. User rules come before the predefined
// ones of their kind, except that .m.rule.master stays first of all.
func (a *Accounts) pushRules(ctx context.Context, userID id.UserID) (pushRuleset, error) {
	defaults, err := defaultPushRules(userID)
	if err != nil {
		return pushRuleset{}, err
	}
	if err := a.applyDefaultChanges(ctx, userID, &defaults); err != nil {
		return pushRuleset{}, err
	}
	own, err := a.userPushRules(ctx, userID)
	if err != nil {
		return pushRuleset{}, err
	}
	rs := pushRuleset{
		Override:  append(append(append([]pushRule{}, defaults.Override[:1]...), own.Override...), defaults.Override[1:]...),
		Content:   append(append([]pushRule{}, own.Content...), defaults.Content...),
		Room:      append([]pushRule{}, own.Room...),
		Sender:    append([]pushRule{}, own.Sender...),
		Underride: append(append([]pushRule{}, own.Underride...), defaults.Underride...),
	}
	return rs, nil
}

func (a *Accounts) applyDefaultChanges(ctx context.Context, userID id.UserID, rs *pushRuleset) error {
	rows, err := a.db.Query(ctx, listPushRuleDefaultsQuery, userID)
	if err != nil {
		return fmt.Errorf("push rules of %s: %w", userID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			kind, ruleID string
			enabled      sql.NullBool
			actions      sql.NullString
		)
		if err := rows.Scan(&kind, &ruleID, &enabled, &actions); err != nil {
			return fmt.Errorf("push rules of %s: %w", userID, err)
		}
		rule := rs.find(kind, ruleID)
		if rule == nil {
			continue // a rule a later spec version dropped
		}
		if enabled.Valid {
			rule.Enabled = enabled.Bool
		}
		if actions.Valid {
			rule.Actions = json.RawMessage(actions.String)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("push rules of %s: %w", userID, err)
	}
	return nil
}

func (a *Accounts) userPushRules(ctx context.Context, userID id.UserID) (pushRuleset, error) {
	rows, err := a.db.Query(ctx, listPushRulesQuery, userID)
	if err != nil {
		return pushRuleset{}, fmt.Errorf("push rules of %s: %w", userID, err)
	}
	defer rows.Close()
	var rs pushRuleset
	for rows.Next() {
		var (
			kind       string
			rule       pushRule
			actions    string
			conditions sql.NullString
			pattern    sql.NullString
		)
		if err := rows.Scan(&kind, &rule.RuleID, &rule.Enabled, &actions, &conditions, &pattern); err != nil {
			return pushRuleset{}, fmt.Errorf("push rules of %s: %w", userID, err)
		}
		rule.Actions = json.RawMessage(actions)
		switch kind {
		case kindOverride, kindUnderride:
			rule.Conditions = json.RawMessage("[]")
			if conditions.Valid {
				rule.Conditions = json.RawMessage(conditions.String)
			}
		case kindContent:
			rule.Pattern = &pattern.String
		}
		if list := rs.kind(kind); list != nil {
			*list = append(*list, rule)
		}
	}
	if err := rows.Err(); err != nil {
		return pushRuleset{}, fmt.Errorf("push rules of %s: %w", userID, err)
	}
	return rs, nil
}

// pushRulesContent is the content of userID's m.push_rules account data.
func (a *Accounts) pushRulesContent(ctx context.Context, userID id.UserID) (json.RawMessage, error) {
	rs, err := a.pushRules(ctx, userID)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"global": rs})
}

// changePushRules runs change in a transaction, then records the new
// ruleset in the account data stream in the same transaction.
func (a *Accounts) changePushRules(ctx context.Context, userID id.UserID, change func(ctx context.Context) error) error {
	var pos int64
	err := a.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if err := change(ctx); err != nil {
			return err
		}
		content, err := a.pushRulesContent(ctx, userID)
		if err != nil {
			return err
		}
		pos, err = a.writeAccountData(ctx, userID, "", typePushRules, content)
		return err
	})
	if err != nil {
		return err
	}
	a.accountDataCommitted(userID, pos)
	return nil
}

// putPushRule creates or updates a user rule and places it: before or
// after another user rule of its kind when asked (before wins when both
// are given), else where it was, else first.
func (a *Accounts) putPushRule(ctx context.Context, userID id.UserID, kind, ruleID string, actions, conditions json.RawMessage, pattern *string, before, after string) error {
	return a.changePushRules(ctx, userID, func(ctx context.Context) error {
		order, err := a.kindOrder(ctx, userID, kind)
		if err != nil {
			return err
		}
		at := 0
		if i := indexOf(order, ruleID); i >= 0 {
			at = i
			order = append(order[:i], order[i+1:]...)
		}
		switch {
		case before != "":
			if at = indexOf(order, before); at < 0 {
				return mautrix.MUnknown.WithStatus(http.StatusBadRequest).WithMessage("before/after rule not found: %s", before)
			}
		case after != "":
			if at = indexOf(order, after); at < 0 {
				return mautrix.MUnknown.WithStatus(http.StatusBadRequest).WithMessage("before/after rule not found: %s", after)
			}
			at++
		}
		order = append(order[:at], append([]string{ruleID}, order[at:]...)...)

		var cond, pat sql.NullString
		if conditions != nil {
			cond = sql.NullString{String: string(conditions), Valid: true}
		}
		if pattern != nil {
			pat = sql.NullString{String: *pattern, Valid: true}
		}
		if _, err := a.db.Exec(ctx, upsertPushRuleQuery, userID, kind, ruleID, string(actions), cond, pat); err != nil {
			return err
		}
		for pos, rid := range order {
			if _, err := a.db.Exec(ctx, setPushRulePositionQuery, userID, kind, rid, pos); err != nil {
				return err
			}
		}
		return nil
	})
}

func (a *Accounts) kindOrder(ctx context.Context, userID id.UserID, kind string) ([]string, error) {
	rows, err := a.db.Query(ctx, listKindQuery, userID, kind)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var order []string
	for rows.Next() {
		var rid string
		if err := rows.Scan(&rid); err != nil {
			return nil, err
		}
		order = append(order, rid)
	}
	return order, rows.Err()
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// isPredefined reports whether ruleID names a server-default rule: those
// ids, and only those, start with a dot.
func isPredefined(ruleID string) bool { return strings.HasPrefix(ruleID, ".") }

// normalizeActions checks a rule's actions and drops the historical
// dont_notify and coalesce, as the spec asks servers to.
func normalizeActions(actions []json.RawMessage) (json.RawMessage, error) {
	out := []json.RawMessage{}
	for _, action := range actions {
		var name string
		if json.Unmarshal(action, &name) == nil {
			switch name {
			case "notify":
				out = append(out, json.RawMessage(`"notify"`))
			case "dont_notify", "coalesce":
			default:
				return nil, mautrix.MInvalidParam.WithMessage("actions: unknown action %q", name)
			}
			continue
		}
		var tweak struct {
			SetTweak *string `json:"set_tweak"`
		}
		if json.Unmarshal(action, &tweak) != nil || tweak.SetTweak == nil || *tweak.SetTweak == "" || action[0] != '{' {
			return nil, mautrix.MInvalidParam.WithMessage("actions: each action is \"notify\" or an object with set_tweak")
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, action); err != nil {
			return nil, mautrix.MInvalidParam.WithMessage("actions: %s", err)
		}
		out = append(out, buf.Bytes())
	}
	return json.Marshal(out)
}

// normalizeConditions checks that each condition is an object with a kind.
// Kinds this server does not know are kept: they never match, as the spec
// says.
func normalizeConditions(conditions []json.RawMessage) (json.RawMessage, error) {
	out := []json.RawMessage{}
	for _, c := range conditions {
		var cond struct {
			Kind *string `json:"kind"`
		}
		if len(c) == 0 || c[0] != '{' || json.Unmarshal(c, &cond) != nil || cond.Kind == nil || *cond.Kind == "" {
			return nil, mautrix.MInvalidParam.WithMessage("conditions: each condition is an object with a kind")
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, c); err != nil {
			return nil, mautrix.MInvalidParam.WithMessage("conditions: %s", err)
		}
		out = append(out, buf.Bytes())
	}
	return json.Marshal(out)
}
