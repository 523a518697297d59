package puppet

import "errors"

// ErrLoginNotFound is returned (wrapped) by Store.SetLoginState when the
// user has no login of that id on the network (it was deleted meanwhile).
// Nothing is written; the caller drops the state report.
var ErrLoginNotFound = errors.New("login not found")
