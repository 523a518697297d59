// Package puppet will map remote users to ghost Matrix users (with profile
// sync), and keep each Matrix user's own identity on a remote network.
//
// Not yet: nothing here is implemented.
//
// It may import appservice/. It must not import homeserver/, bridge/ or
// connectors/.
package puppet
