// Package storetest is a conformance suite for implementations of
// snapexport.Store, in the manner of riverqueue/river's shared driver tests:
// every implementation (SQLite today, PostgreSQL later) runs the same
// subtests from its own test file.
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) snapexport.Store {
//			db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return db
//		})
//	}
//
// What the suite holds an implementation to, beyond the doc comments of
// snapexport.Store, snapexport.Tx and snapexport.NonceStore:
//
//   - Every field written is read back unchanged. Times are compared as
//     instants (time.Time.Equal) at microsecond precision, the resolution of
//     PostgreSQL's timestamptz; the suite's times carry a non-zero
//     microsecond part and some are in a zone other than UTC. A nil *time.Time
//     stays nil and a set one stays set.
//   - Updates are checked on the fields the service changes: for a cloud
//     provider access role AuthorizedAt (set, and cleared again), UpdatedAt,
//     IAMAssumedRoleARN and the Azure and GCP fields; for an export bucket
//     RequirePrivateNetworking and Region. Other fields are left as created.
//   - ListProjects with no orgIDs and no ids matches nothing and is no error
//     (SQL backends must not build an empty IN list).
//   - A Page with Limit 0 means "no limit" (service.OrgProjects relies on it);
//     an Offset past the end gives an empty page with the full total.
//   - Lists are in creation (insertion) order, also when several items carry
//     the same CreatedAt. ListRoles is the exception: its order is not
//     specified and the suite compares it as a set.
//   - Writes of any Tx method are undone when fn returns an error or panics
//     (the panic goes on up through Write), and the store stays usable.
//   - Writes, Reads and nonce operations from many goroutines at once all
//     succeed: contention waits, it never fails (no SQLITE_BUSY).
//   - A Read sees one snapshot: a Write committed while it runs is invisible to
//     it (checked only when the Write can commit while the Read is open).
//
// open must return a new, empty store each time it is called; the suite
// closes it when the subtest ends. Subtests do not run in parallel, so open
// may reset a shared database. Each subtest writes through the Store, never
// around it, so the suite needs no backend-specific hooks.
package storetest

import (
	"context"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
)

// Run runs the conformance suite against stores made by open.
func Run(t *testing.T, open func(t *testing.T) snapexport.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Organization", organizationTests},
		{"Project", projectTests},
		{"APIKey", apiKeyTests},
		{"ServiceAccount", serviceAccountTests},
		{"Role", roleTests},
		{"AccessToken", accessTokenTests},
		{"ServerSecret", serverSecretTests},
		{"CloudProviderAccessRole", cloudProviderAccessRoleTests},
		{"ExportBucket", exportBucketTests},
		{"PrivateEndpoint", privateEndpointTests},
		{"Cluster", clusterTests},
		{"Snapshot", snapshotTests},
		{"ExportJob", exportJobTests},
		{"CreationOrder", creationOrderTests},
		{"AppendOrder", appendOrderTests},
		{"Listing", listingTests},
		{"Nonce", nonceTests},
		{"Transaction", transactionTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					tc.fn(t, newEnv(t, open))
				})
			}
		})
	}
}

type test struct {
	name string
	fn   func(t *testing.T, e *env)
}

// env is one subtest's store with generators of ids and times.
type env struct {
	t     *testing.T
	ctx   context.Context
	store snapexport.Store
	rng   *rand.Rand
	tick  int
}

func newEnv(t *testing.T, open func(t *testing.T) snapexport.Store) *env {
	t.Helper()
	store := open(t)
	if store == nil {
		t.Fatal("storetest: open returned a nil store")
	}
	t.Cleanup(func() {
		closed := make(chan error, 1)
		go func() { closed <- store.Close() }()
		select {
		case err := <-closed:
			if err != nil {
				t.Errorf("Close: %v", err)
			}
		case <-time.After(hangTimeout):
			t.Errorf("Close did not return within %v", hangTimeout)
		}
	})
	return &env{t: t, ctx: context.Background(), store: store, rng: rand.New(rand.NewPCG(1, 2))}
}

// id returns a fresh ObjectId-like id (24 hex digits). Successive ids are
// not in ascending order, so an implementation that sorts by id instead of
// by creation shows it.
func (e *env) id() string {
	b := make([]byte, 12)
	for i := range b {
		b[i] = byte(e.rng.Uint32())
	}
	return hex.EncodeToString(b)
}

var (
	baseTime = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)
	// otherZone has a non-whole-hour offset, so a store that drops or
	// misapplies the zone shows it.
	otherZone = time.FixedZone("IST", 5*3600+30*60)
)

// now returns a later time at each call, with microsecond precision and
// alternately in UTC and in otherZone.
func (e *env) now() time.Time {
	e.tick++
	t := baseTime.Add(time.Duration(e.tick) * (time.Second + 1001*time.Microsecond))
	if e.tick%2 == 0 {
		return t.In(otherZone)
	}
	return t
}

func ptr[T any](v T) *T { return &v }

func (e *env) write(fn func(tx snapexport.Tx) error) error {
	return e.store.Write(e.ctx, fn)
}

func (e *env) read(fn func(tx snapexport.Tx) error) error {
	return e.store.Read(e.ctx, fn)
}

func (e *env) mustWrite(fn func(tx snapexport.Tx) error) {
	e.t.Helper()
	if err := e.write(fn); err != nil {
		e.t.Fatalf("Write: %v", err)
	}
}

func (e *env) mustRead(fn func(tx snapexport.Tx) error) {
	e.t.Helper()
	if err := e.read(fn); err != nil {
		e.t.Fatalf("Read: %v", err)
	}
}

// wantErr fails the test unless err matches target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

// noErr fails the test now if err is not nil.
func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Fixtures. Each creates a resource in its own committed Write with every
// field set and returns what it wrote.

// written creates v, a resource the suite made, with create (a method of
// snapexport.Tx, as snapexport.Tx.CreateProject) in a committed Write of
// its own and returns it.
func written[T any](e *env, create func(snapexport.Tx, context.Context, T) error, v T) T {
	e.t.Helper()
	e.mustWrite(func(tx snapexport.Tx) error { return create(tx, e.ctx, v) })
	return v
}

func (e *env) org() *snapexport.Organization {
	e.t.Helper()
	id := e.id()
	return written(e, snapexport.Tx.CreateOrganization, &snapexport.Organization{ID: id, Name: "org " + id, CreatedAt: e.now()})
}

func (e *env) project(orgID string) *snapexport.Project {
	e.t.Helper()
	id := e.id()
	return written(e, snapexport.Tx.CreateProject, &snapexport.Project{ID: id, OrgID: orgID, Name: "project-" + id, CreatedAt: e.now()})
}

func (e *env) newAPIKey(orgID string) *snapexport.APIKey {
	id := e.id()
	return &snapexport.APIKey{ID: id, OrgID: orgID, PublicKey: "pk" + id[:8], HA1: "ha1-" + id,
		Description: "key " + id, CreatedAt: e.now()}
}

func (e *env) apiKey(orgID string) *snapexport.APIKey {
	e.t.Helper()
	return written(e, snapexport.Tx.CreateAPIKey, e.newAPIKey(orgID))
}

func (e *env) newServiceAccount(orgID string) *snapexport.ServiceAccount {
	id := e.id()
	return &snapexport.ServiceAccount{ID: id, OrgID: orgID, ClientID: "mdb_sa_id_" + id, SecretHash: "$argon2id$" + id,
		Name: "sa-" + id, Description: "service account " + id, CreatedAt: e.now()}
}

func (e *env) serviceAccount(orgID string) *snapexport.ServiceAccount {
	e.t.Helper()
	return written(e, snapexport.Tx.CreateServiceAccount, e.newServiceAccount(orgID))
}

func (e *env) newToken(saID string) *snapexport.AccessToken {
	issued := e.now()
	return &snapexport.AccessToken{Hash: "sha256-" + e.id(), ServiceAccountID: saID, IssuedAt: issued, ExpiresAt: issued.Add(time.Hour)}
}

func (e *env) token(saID string) *snapexport.AccessToken {
	e.t.Helper()
	return written(e, snapexport.Tx.CreateAccessToken, e.newToken(saID))
}

func (e *env) assign(ra snapexport.RoleAssignment) {
	e.t.Helper()
	e.mustWrite(func(tx snapexport.Tx) error { return tx.AssignRole(e.ctx, ra) })
}

// newRole returns a role of provider as the service creates it: AWS and
// Azure unauthorized, GCP authorized at creation.
func (e *env) newRole(projectID string, provider snapexport.CloudProvider) *snapexport.CloudProviderAccessRole {
	id := e.id()
	now := e.now()
	r := &snapexport.CloudProviderAccessRole{ID: id, ProjectID: projectID, Provider: provider, CreatedAt: now, UpdatedAt: now}
	switch provider {
	case snapexport.AWS:
		r.AtlasAWSAccountARN = "arn:aws:iam::000000000000:root"
		r.ExternalID = "ext-" + id
	case snapexport.Azure:
		r.AtlasAzureAppID = "app-" + id
		r.ServicePrincipalID = "sp-" + id
		r.TenantID = "tenant-" + id
	case snapexport.GCP:
		r.GCPServiceAccount = "mongodb-atlas-" + id + "@p-x.iam.gserviceaccount.com"
		r.GCPStatus = snapexport.GCPRoleStatusComplete
		r.AuthorizedAt = ptr(e.now())
	}
	return r
}

func (e *env) role(projectID string, provider snapexport.CloudProvider) *snapexport.CloudProviderAccessRole {
	e.t.Helper()
	return written(e, snapexport.Tx.CreateCloudProviderAccessRole, e.newRole(projectID, provider))
}

// newBucket returns a bucket of the role's provider with every field its
// provider uses set.
func (e *env) newBucket(role *snapexport.CloudProviderAccessRole) *snapexport.ExportBucket {
	id := e.id()
	b := &snapexport.ExportBucket{ID: id, ProjectID: role.ProjectID, Provider: role.Provider, BucketName: "bucket-" + id,
		RoleID: role.ID, CreatedAt: e.now()}
	switch role.Provider {
	case snapexport.AWS:
		b.Region = "eu-west-3"
		b.RequirePrivateNetworking = true
	case snapexport.Azure:
		b.ServiceURL = "https://account.blob.core.windows.net/bucket-" + id
		b.TenantID = role.TenantID
	}
	return b
}

func (e *env) bucket(role *snapexport.CloudProviderAccessRole) *snapexport.ExportBucket {
	e.t.Helper()
	return written(e, snapexport.Tx.CreateExportBucket, e.newBucket(role))
}
