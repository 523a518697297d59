package accounts

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"strings"

	"maunium.net/go/mautrix"

	"switchboard/homeserver/mxhttp"
)

var errUnknownPushRule = mautrix.MNotFound.WithMessage("The push rule was not found")

func (a *Accounts) handleGetAllPushRules(w http.ResponseWriter, r *http.Request) {
	rs, err := a.pushRules(r.Context(), identity(r).UserID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]any{"global": rs})
}

func (a *Accounts) handleGetGlobalPushRules(w http.ResponseWriter, r *http.Request) {
	rs, err := a.pushRules(r.Context(), identity(r).UserID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, rs)
}

// pushRulePath reads and checks {kind} and {ruleId}.
func pushRulePath(r *http.Request) (kind, ruleID string, err error) {
	kind, ruleID = r.PathValue("kind"), r.PathValue("ruleId")
	if !validKind(kind) {
		return "", "", mautrix.MInvalidParam.WithMessage("%q is not a push rule kind; use override, content, room, sender or underride", kind)
	}
	if ruleID == "" || !validText(ruleID, maxRuleIDBytes) {
		return "", "", errUnknownPushRule
	}
	return kind, ruleID, nil
}

// findPushRule returns the current rule of kind with ruleID, or a 404.
func (a *Accounts) findPushRule(r *http.Request) (kind string, rule pushRule, err error) {
	kind, ruleID, err := pushRulePath(r)
	if err != nil {
		return "", pushRule{}, err
	}
	rs, err := a.pushRules(r.Context(), identity(r).UserID)
	if err != nil {
		return "", pushRule{}, err
	}
	found := rs.find(kind, ruleID)
	if found == nil {
		return "", pushRule{}, errUnknownPushRule
	}
	return kind, *found, nil
}

func (a *Accounts) handleGetPushRule(w http.ResponseWriter, r *http.Request) {
	_, rule, err := a.findPushRule(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, rule)
}

func (a *Accounts) handleGetPushRuleEnabled(w http.ResponseWriter, r *http.Request) {
	_, rule, err := a.findPushRule(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]bool{"enabled": rule.Enabled})
}

func (a *Accounts) handleGetPushRuleActions(w http.ResponseWriter, r *http.Request) {
	_, rule, err := a.findPushRule(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]json.RawMessage{"actions": rule.Actions})
}

// handlePutPushRule creates or replaces one of the user's own rules.
// Predefined rules (ids starting with a dot) cannot be written this way;
// their enabled flag and actions have their own endpoints.
func (a *Accounts) handlePutPushRule(w http.ResponseWriter, r *http.Request) {
	kind, ruleID, err := pushRulePath(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if isPredefined(ruleID) || strings.ContainsAny(ruleID, `/\`) {
		a.fail(w, r, mautrix.MInvalidParam.WithMessage("Rule ids may not start with a dot (reserved for predefined rules) or contain / or \\"))
		return
	}
	var req struct {
		Actions    *[]json.RawMessage `json:"actions"`
		Conditions *[]json.RawMessage `json:"conditions"`
		Pattern    *string            `json:"pattern"`
	}
	if err := mxhttp.ReadJSON(r, &req, 0); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Actions == nil {
		a.fail(w, r, errMissingParam.WithMessage("actions: missing"))
		return
	}
	actions, err := normalizeActions(*req.Actions)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var conditions json.RawMessage
	var pattern *string
	switch kind {
	case kindOverride, kindUnderride:
		var list []json.RawMessage
		if req.Conditions != nil {
			list = *req.Conditions
		}
		if conditions, err = normalizeConditions(list); err != nil {
			a.fail(w, r, err)
			return
		}
	case kindContent:
		if req.Pattern == nil || *req.Pattern == "" {
			a.fail(w, r, errMissingParam.WithMessage("pattern: missing; content rules match a pattern"))
			return
		}
		if !validText(*req.Pattern, maxPatternBytes) {
			a.fail(w, r, mautrix.MInvalidParam.WithMessage("pattern: at most %d bytes of text", maxPatternBytes))
			return
		}
		pattern = req.Pattern
	}
	before, after := r.URL.Query().Get("before"), r.URL.Query().Get("after")
	for _, rel := range []string{before, after} {
		if isPredefined(rel) {
			a.fail(w, r, mautrix.MInvalidParam.WithMessage("A rule cannot be placed relative to a predefined rule"))
			return
		}
	}
	err = a.putPushRule(r.Context(), identity(r).UserID, kind, ruleID, actions, conditions, pattern, before, after)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ok(w)
}

func (a *Accounts) handleDeletePushRule(w http.ResponseWriter, r *http.Request) {
	kind, rule, err := a.findPushRule(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if rule.Default {
		a.fail(w, r, mautrix.MInvalidParam.WithMessage("Predefined push rules cannot be deleted; disable the rule instead"))
		return
	}
	userID := identity(r).UserID
	err = a.changePushRules(r.Context(), userID, func(ctx context.Context) error {
		res, err := a.db.Exec(ctx, deletePushRuleQuery, userID, kind, rule.RuleID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return errUnknownPushRule // deleted meanwhile
		}
		return nil
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ok(w)
}

func (a *Accounts) handlePutPushRuleEnabled(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Enabled *bool `json:"enabled"`
	}
	if err := mxhttp.ReadJSON(r, &req, 0); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Enabled == nil {
		a.fail(w, r, errMissingParam.WithMessage("enabled: missing"))
		return
	}
	a.changeRule(w, r, sql.NullBool{Bool: *req.Enabled, Valid: true}, sql.NullString{})
}

func (a *Accounts) handlePutPushRuleActions(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Actions *[]json.RawMessage `json:"actions"`
	}
	if err := mxhttp.ReadJSON(r, &req, 0); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Actions == nil {
		a.fail(w, r, errMissingParam.WithMessage("actions: missing"))
		return
	}
	actions, err := normalizeActions(*req.Actions)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.changeRule(w, r, sql.NullBool{}, sql.NullString{String: string(actions), Valid: true})
}

// changeRule sets the enabled flag or the actions (whichever is Valid) of
// an existing rule, predefined or the user's own.
func (a *Accounts) changeRule(w http.ResponseWriter, r *http.Request, enabled sql.NullBool, actions sql.NullString) {
	kind, rule, err := a.findPushRule(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	userID := identity(r).UserID
	err = a.changePushRules(r.Context(), userID, func(ctx context.Context) error {
		if rule.Default {
			_, err := a.db.Exec(ctx, upsertPushRuleDefaultQuery, userID, kind, rule.RuleID, enabled, actions)
			return err
		}
		query, value := setPushRuleEnabledQuery, any(enabled.Bool)
		if actions.Valid {
			query, value = setPushRuleActionsQuery, actions.String
		}
		res, err := a.db.Exec(ctx, query, userID, kind, rule.RuleID, value)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return errUnknownPushRule
		}
		return nil
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ok(w)
}
