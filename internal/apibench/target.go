package apibench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/api"
	authn "github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/service"
	"github.com/snapexport/snapexport/internal/testserver"
)

// Media types of the requests, as the SDK sends them: the export bucket
// resource's latest version, and the one of deletes and of cloud provider
// access.
var (
	bucketMedia = mediaType("2024-05-30")
	olderMedia  = mediaType("2023-01-01")
)

func mediaType(date string) string { return "application/vnd.atlas." + date + "+json" }

// getBuckets is how many buckets the gets read in turn, so that they do
// not all read one row.
const getBuckets = 16

// target is a snapexport server under load with the fixtures of the
// cases: an authorized AWS role, buckets to read, and credentials of both
// kinds.
type target struct {
	backend string
	srv     *testserver.Server
	// token is the service account's bearer token, fetched once.
	token  string
	roleID string
	// getIDs are the buckets the gets read; getBody is the answer to a GET
	// of the first, and contentType its media type.
	getIDs      []string
	getBody     []byte
	contentType string
	// passTokens are the tokens of the service accounts of the list
	// passes, one per client.
	passTokens []string
}

// makePassTokens makes n service accounts that may read project groupID
// and a token of each.
func (t *target) makePassTokens(ctx context.Context, groupID string, n int) error {
	svc := t.srv.Server.Service
	for i := range n {
		creds, err := svc.CreateServiceAccount(ctx, t.srv.OrgID, fmt.Sprintf("apibench-pass-%d", i), "apibench list pass", nil, passHash)
		if err != nil {
			return err
		}
		if err := svc.AssignRole(ctx, service.PrincipalRef{ClientID: creds.ClientID}, groupID, snapexport.RoleGroupReadOnly); err != nil {
			return err
		}
		tok, err := t.srv.Server.Auth.IssueToken(ctx, authn.Client{ID: creds.ClientID, Secret: creds.ClientSecret})
		if err != nil {
			return err
		}
		t.passTokens = append(t.passTokens, tok.AccessToken)
	}
	return nil
}

// passHash hashes the secrets of the passes' service accounts cheaply:
// their tokens are made once, before the cases.
var passHash = authn.HashParams{Time: 1, Memory: 64, Threads: 1}

// startTarget starts a server on backend (sqlite in dataDir, or
// postgres: a fresh schema of database), rate limits off, and makes the
// fixtures through the API.
func startTarget(ctx context.Context, backend, dataDir, database string) (*target, error) {
	limits := api.DefaultLimits()
	limits.Disabled = true
	srv, err := testserver.Start(ctx, testserver.Options{Limits: &limits, DataDir: dataDir, Database: database})
	if err != nil {
		return nil, fmt.Errorf("start the %s server: %w", backend, err)
	}
	t := &target{backend: backend, srv: srv}
	if err := t.fixtures(ctx); err != nil {
		srv.Close()
		return nil, fmt.Errorf("%s fixtures: %w", backend, err)
	}
	return t, nil
}

func (t *target) close() { t.srv.Close() }

func (t *target) bucketsPath(groupID string) string {
	return "/api/atlas/v2/groups/" + groupID + "/backup/exportBuckets"
}

func (t *target) fixtures(ctx context.Context) error {
	c := newClient(t.srv.URL, 1, nil)
	defer c.close()
	token, err := t.requestToken(ctx, c)
	if err != nil {
		return err
	}
	t.token, c.bearer = token, token
	if t.roleID, err = authorizedRole(ctx, c, t.srv.GroupID); err != nil {
		return err
	}
	for i := range getBuckets {
		id, err := createBucket(ctx, c, t.bucketsPath(t.srv.GroupID), fmt.Sprintf("apibench-get-%d", i), t.roleID)
		if err != nil {
			return err
		}
		t.getIDs = append(t.getIDs, id)
	}
	body, header, err := c.call(ctx, http.MethodGet, t.bucketsPath(t.srv.GroupID)+"/"+t.getIDs[0], bucketMedia, "", http.StatusOK)
	if err != nil {
		return err
	}
	t.getBody, t.contentType = bytes.Clone(body), header.Get("Content-Type")
	return nil
}

// requestToken asks the token endpoint for the service account's access
// token with the client-credentials grant, as the SDK's OAuth flow does.
func (t *target) requestToken(ctx context.Context, c *client) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.srv.URL+"/api/oauth/token", strings.NewReader(form))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(t.srv.ServiceAccount.ClientID), url.QueryEscape(t.srv.ServiceAccount.ClientSecret))
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token endpoint: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("token endpoint: no access_token (%v)", err)
	}
	return tok.AccessToken, nil
}

// authorizedRole creates an AWS cloud provider access role in a project
// and authorizes it.
func authorizedRole(ctx context.Context, c *client, groupID string) (string, error) {
	path := "/api/atlas/v2/groups/" + groupID + "/cloudProviderAccess"
	out, _, err := c.call(ctx, http.MethodPost, path, olderMedia, `{"providerName":"AWS"}`, http.StatusOK)
	if err != nil {
		return "", err
	}
	var r struct {
		RoleID string `json:"roleId"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return "", err
	}
	_, _, err = c.call(ctx, http.MethodPatch, path+"/"+r.RoleID, olderMedia,
		`{"providerName":"AWS","iamAssumedRoleArn":"arn:aws:iam::123456789012:role/apibench"}`, http.StatusOK)
	return r.RoleID, err
}

// createBucket registers an AWS bucket through the API and returns its id.
func createBucket(ctx context.Context, c *client, path, name, roleID string) (string, error) {
	body := fmt.Sprintf(`{"bucketName":%q,"cloudProvider":"AWS","iamRoleId":%q}`, name, roleID)
	out, _, err := c.call(ctx, http.MethodPost, path, bucketMedia, body, http.StatusOK)
	if err != nil {
		return "", err
	}
	var b struct {
		ID string `json:"_id"`
	}
	if err := json.Unmarshal(out, &b); err != nil || b.ID == "" {
		return "", fmt.Errorf("POST %s: no _id in %.200s", path, out)
	}
	return b.ID, nil
}

// fillList makes a project of n buckets for the list cases: its first
// bucket through the API, the others copies of it written straight to
// the store, a thousand per transaction.
func (t *target) fillList(ctx context.Context, n int) (groupID string, err error) {
	svc := t.srv.Server.Service
	p, err := svc.CreateProject(ctx, nil, t.srv.OrgID, fmt.Sprintf("apibench-list-%d", n))
	if err != nil {
		return "", err
	}
	c := newClient(t.srv.URL, 2, nil)
	defer c.close()
	c.bearer = t.token
	roleID, err := authorizedRole(ctx, c, p.ID)
	if err != nil {
		return "", err
	}
	first, err := createBucket(ctx, c, t.bucketsPath(p.ID), "apibench-list-0", roleID)
	if err != nil {
		return "", err
	}
	template, err := svc.Bucket(ctx, p.ID, first)
	if err != nil {
		return "", err
	}
	const batch = 1000
	for made := 1; made < n; made += batch {
		err := t.srv.Server.Store.Write(ctx, func(tx snapexport.Tx) error {
			for i := made; i < min(made+batch, n); i++ {
				b := *template
				b.ID, b.BucketName = service.NewID(), fmt.Sprintf("apibench-list-%d", i)
				if err := tx.CreateExportBucket(ctx, &b); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("fill the list: %w", err)
		}
	}
	return p.ID, nil
}
