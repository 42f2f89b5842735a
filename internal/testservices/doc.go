// Package testservices runs the protocol servers the tests of several
// packages (objectstore, e2e, cmd/snapexport, capture) talk to, all on
// loopback:
//
//   - S3: gofakes3 in-process (path-style), recording every request;
//   - GCS: fake-gcs-server in-process, recording every request;
//   - STS: the fake AWS STS of internal/fakests, knowing given roles;
//   - Azurite: the Azure Storage emulator's Blob service, a Node.js
//     program started once per test binary (see Azurite);
//   - FerretDB: a MongoDB wire-protocol server over SQLite, started once
//     per test binary with scripts/ferretdb (see FerretDB);
//   - fault injection: a reverse proxy answering what a test decides, a
//     loopback port nothing listens on and one that never answers.
//
// Servers started for a test stop when it ends. Azurite and FerretDB
// outlive the test that first asked for them: a TestMain calls StopAll
// after m.Run, as Main does.
//
// It is a non-test package so that tests of several packages can share it;
// nothing outside tests imports it.
package testservices
