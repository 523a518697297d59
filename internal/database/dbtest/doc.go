// Package dbtest gives tests a fresh Switchboard database on each engine:
// SQLite always, PostgreSQL whenever it is reachable, and always in CI.
//
// PostgreSQL tests connect to the server named by SWITCHBOARD_TEST_POSTGRES
// (default postgres://switchboard:switchboard@127.0.0.1:5432/switchboard?sslmode=disable,
// a role with LOGIN CREATEDB) and create a database of their own, dropped
// when the test ends, so tests may run in parallel and never see each
// other's tables. When the server cannot be reached the tests are skipped,
// unless CI=true, where they fail.
package dbtest
