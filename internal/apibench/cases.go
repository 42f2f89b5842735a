package apibench

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/mongodb-forks/digest"
)

// Operation names, as the report prints them.
const (
	opBareRead   = "bare read"
	opBareCreate = "bare create"
	opGet        = "get"
	opCreate     = "create"
	opDelete     = "delete"
	opList       = "list"
)

// Case names, as the report prints them.
const (
	caseBareRead   = "bare read"
	caseGetBearer  = "GET bearer"
	caseGetDigest  = "GET digest"
	caseBareCreate = "bare create"
	caseCreate     = "create"
	caseMixed      = "mixed"
	// casePass reads every page of the 100,000 buckets in order, again and
	// again; the "list page N" cases jump to page N outside any pass.
	casePass = "list pass, every page in order"
)

// auth says how a case's clients authenticate.
type auth int

const (
	authNone auth = iota
	authBearer
	authDigest
	// authOwnBearer gives each client the token of a service account of
	// its own (target.passTokens), so that each walks a pass of its own.
	authOwnBearer
)

// clientsFor makes n clients of base, each with its own pool.
func (r *runner) clientsFor(base string, n int, a auth) []*client {
	cs := make([]*client, n)
	for i := range cs {
		var wrap func(http.RoundTripper) http.RoundTripper
		if a == authDigest {
			key := r.target.srv.APIKey
			wrap = func(rt http.RoundTripper) http.RoundTripper {
				return &digest.Transport{Username: key.PublicKey, Password: key.PrivateKey, Transport: rt}
			}
		}
		cs[i] = newClient(base, r.seed.Add(1), wrap)
		switch a {
		case authBearer:
			cs[i].bearer = r.target.token
		case authOwnBearer:
			cs[i].bearer = r.target.passTokens[i%len(r.target.passTokens)]
		}
	}
	return cs
}

// names gives each create a bucket name of its own.
type names struct{ n atomic.Int64 }

func (s *names) next(prefix string) string { return fmt.Sprintf("%s-%d", prefix, s.n.Add(1)) }

func (r *runner) bareRead() step {
	return func(ctx context.Context, c *client) (string, error) {
		_, _, err := c.call(ctx, http.MethodGet, "/read/"+r.target.getIDs[c.rng.IntN(len(r.target.getIDs))], "", "", http.StatusOK)
		return opBareRead, err
	}
}

func (r *runner) get() step {
	path := r.target.bucketsPath(r.target.srv.GroupID) + "/"
	return func(ctx context.Context, c *client) (string, error) {
		_, _, err := c.call(ctx, http.MethodGet, path+r.target.getIDs[c.rng.IntN(len(r.target.getIDs))], bucketMedia, "", http.StatusOK)
		return opGet, err
	}
}

func (r *runner) bareCreate() step {
	return func(ctx context.Context, c *client) (string, error) {
		body := fmt.Sprintf(`{"bucketName":%q,"cloudProvider":"AWS"}`, r.names.next("bare"))
		_, _, err := c.call(ctx, http.MethodPost, "/create", "", body, http.StatusOK)
		return opBareCreate, err
	}
}

func (r *runner) create() step {
	path := r.target.bucketsPath(r.target.srv.GroupID)
	return func(ctx context.Context, c *client) (string, error) {
		id, err := createBucket(ctx, c, path, r.names.next("apibench"), r.target.roleID)
		if err == nil {
			c.created = append(c.created, id)
		}
		return opCreate, err
	}
}

// mixed is the mixed load: 30 % creates, 20 % deletes of a
// bucket the client created (a create when it has none left), 25 % gets
// and 25 % first pages of 100.
func (r *runner) mixed() step {
	create, get := r.create(), r.get()
	path := r.target.bucketsPath(r.target.srv.GroupID)
	return func(ctx context.Context, c *client) (string, error) {
		switch p := c.rng.IntN(100); {
		case p < 30 || p < 50 && len(c.created) == 0:
			return create(ctx, c)
		case p < 50:
			id := c.created[len(c.created)-1]
			c.created = c.created[:len(c.created)-1]
			_, _, err := c.call(ctx, http.MethodDelete, path+"/"+id, olderMedia, "", http.StatusNoContent)
			return opDelete, err
		case p < 75:
			return get(ctx, c)
		default:
			_, _, err := c.call(ctx, http.MethodGet, path+"?itemsPerPage=100&pageNum=1", bucketMedia, "", http.StatusOK)
			return opList, err
		}
	}
}

// listPage reads one page of 500 of the list project.
func (r *runner) listPage(groupID string, page int, includeCount bool) step {
	path := fmt.Sprintf("%s?itemsPerPage=%d&pageNum=%d&includeCount=%t", r.target.bucketsPath(groupID), listPageSize, page, includeCount)
	return func(ctx context.Context, c *client) (string, error) {
		_, _, err := c.call(ctx, http.MethodGet, path, bucketMedia, "", http.StatusOK)
		return opList, err
	}
}

// listPass is a client's pass through the pages of the list, in order
// and then again from the first, as the SDK's and the CLI's paginators
// read a list; each client has a principal, so a pass, of its own.
func (r *runner) listPass(groupID string, pages int) step {
	path := fmt.Sprintf("%s?itemsPerPage=%d&includeCount=false&pageNum=", r.target.bucketsPath(groupID), listPageSize)
	return func(ctx context.Context, c *client) (string, error) {
		c.page = c.page%pages + 1
		_, _, err := c.call(ctx, http.MethodGet, path+strconv.Itoa(c.page), bucketMedia, "", http.StatusOK)
		return opList, err
	}
}

// listPageSize is the page size of the list cases, Atlas's largest.
const listPageSize = 500
