// Package registration will read, write and validate appservice registration
// YAML files (the format Synapse, Dendrite and conduwuit load), match user,
// alias and room ids against their namespaces, and compare tokens in constant
// time. Both the homeserver and the bridge side use it.
//
// Not yet: nothing here is implemented.
//
// It must not import any other Switchboard package.
package registration
