// Package appservice will be the bridge's side of the Matrix Application
// Service API: the transaction receiver (hs_token checked in constant time,
// transactions deduplicated by id and persisted before they are acknowledged),
// user and alias queries, and the per-puppet intents that act on a homeserver
// through ?user_id= masquerading.
//
// Not yet: nothing here is implemented.
//
// It may import registration/. It must not import homeserver/, bridge/,
// portal/, puppet/ or connectors/.
package appservice
