// Package internal groups what more than one part of Switchboard needs and no
// user of it should import: config loading (config/), the database and its
// migrations (database/), logging (logging/), generated secrets (secrets/) and
// the HTTP server shell with health and metrics (httpserver/).
//
// Packages under internal/ must not import any top-level Switchboard package.
package internal
