// Package ratelimit implements the token-bucket rate limiting that Atlas
// applies to its Admin API: each endpoint set (a Policy) has, per Key (a
// scope, such as a project or an organization, and its id), a bucket of
// Capacity tokens that refills continuously at Refill tokens per Period. A
// request takes one token; a request that finds less than one whole token
// is refused.
//
// The algorithm is the pure function Apply over a State, so that a shared,
// database-backed Limiter (several replicas enforcing one limit) can run it
// inside a transaction; Memory is the in-process Limiter.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Policy is the limit of one endpoint set: a bucket of Capacity tokens
// refilled continuously at Refill tokens per Period, never above Capacity.
type Policy struct {
	Name     string
	Capacity int
	Refill   int
	Period   time.Duration
}

// CloudBackups is the Atlas "Cloud Backups" endpoint set, scoped per project:
// 1200 tokens, refilled at 500 per minute.
func CloudBackups() Policy {
	return Policy{Name: "Cloud Backups", Capacity: 1200, Refill: 500, Period: time.Minute}
}

// CloudProviderAccess is the Atlas "Cloud Provider Access" endpoint set,
// scoped per project: 2000 tokens, refilled at 1000 per minute.
func CloudProviderAccess() Policy {
	return Policy{Name: "Cloud Provider Access", Capacity: 2000, Refill: 1000, Period: time.Minute}
}

// Clusters is the Atlas endpoint set of cluster reads, scoped per project:
// 10000 tokens, as Atlas's answers report, refilled at 5000 per minute (a
// rate Atlas does not publish: half the capacity per minute, as for Cloud
// Provider Access).
func Clusters() Policy {
	return Policy{Name: "Clusters", Capacity: 10000, Refill: 5000, Period: time.Minute}
}

// Projects is the Atlas endpoint set of project operations, scoped per
// organization: 1200 tokens, as Atlas's answers report, refilled at 500 per
// minute (a rate Atlas does not publish: that of Cloud Backups, the
// published set of the same capacity).
func Projects() Policy {
	return Policy{Name: "Projects", Capacity: 1200, Refill: 500, Period: time.Minute}
}

// FailedAuthentications is the budget of failed authentications of one
// client address: 100 tokens, refilled at 50 per minute. Atlas publishes
// no such limit; the capacity lets a misconfigured client fail for a while
// without locking out its address, the refill keeps guessing a key
// hopeless (at most 72000 guesses a day per address).
func FailedAuthentications() Policy {
	return Policy{Name: "Failed Authentications", Capacity: 100, Refill: 50, Period: time.Minute}
}

// Scope is what an endpoint set keeps one bucket for. Atlas's scopes are
// the organization, the project, the user and the IP address; the sets
// here are scoped per project or per organization, and failed
// authentications per client address.
type Scope string

// The scopes of the sets here; the values are stored with PostgreSQL's
// buckets.
const (
	PerProject      Scope = "project"
	PerOrganization Scope = "organization"
	PerAddress      Scope = "address"
)

// Key names one bucket of a policy: its scope and the id of the project,
// organization or client address it is kept for. The same id in two scopes names two
// buckets.
type Key struct {
	Scope Scope
	ID    string
}

// ProjectKey is the key of the bucket kept for project id.
func ProjectKey(id string) Key { return Key{Scope: PerProject, ID: id} }

// OrganizationKey is the key of the bucket kept for organization id.
func OrganizationKey(id string) Key { return Key{Scope: PerOrganization, ID: id} }

// AddressKey is the key of the bucket kept for a client address (an IP
// address, or the network an address is grouped in, as the caller spells
// it).
func AddressKey(address string) Key { return Key{Scope: PerAddress, ID: address} }

// ErrInvalidPolicy is wrapped by the error Validate returns.
var ErrInvalidPolicy = errors.New("ratelimit: invalid policy")

// Validate reports whether p can be enforced: Capacity, Refill and Period
// must all be positive.
func (p Policy) Validate() error {
	if p.Capacity <= 0 || p.Refill <= 0 || p.Period <= 0 {
		return fmt.Errorf("%w %q: capacity %d, refill %d per %v", ErrInvalidPolicy, p.Name, p.Capacity, p.Refill, p.Period)
	}
	return nil
}

// ExceededDetail is the detail of the 429 ApiError Atlas returns when d
// refused a request to endpoint (a path such as
// "api/atlas/v2/groups/{id}/backup/exportBuckets"), for example "Rate limit
// exceeded for api/atlas/v2/groups/{id}/backup/exportBuckets. Please retry
// after 55 seconds. Request capacity: 10. Refill rate: 5 per 60 seconds."
func (p Policy) ExceededDetail(endpoint string, d Decision) string {
	return fmt.Sprintf("Rate limit exceeded for %s. Please retry after %d seconds. Request capacity: %d. Refill rate: %d per %s seconds.",
		endpoint, d.RetryAfterSeconds(), p.Capacity, p.Refill,
		strconv.FormatFloat(p.Period.Seconds(), 'f', -1, 64))
}

// Decision is the outcome of taking one token.
type Decision struct {
	Allowed bool
	// Limit is the bucket capacity (the Ratelimit-Limit header).
	Limit int
	// Remaining is the number of whole tokens left after this request (the
	// Ratelimit-Remaining header).
	Remaining int
	// RetryAfter is zero when Allowed; otherwise the time from now until
	// one whole token is available.
	RetryAfter time.Duration
}

// RetryAfterSeconds is the Retry-After header value of a refused request:
// RetryAfter in whole seconds, rounded up, at least 1. It is 0 when the
// request was allowed.
func (d Decision) RetryAfterSeconds() int {
	if d.Allowed {
		return 0
	}
	s := int((d.RetryAfter + time.Second - 1) / time.Second)
	return max(s, 1)
}

// SetHeaders sets Ratelimit-Limit and Ratelimit-Remaining on h and, when
// the request was refused, Retry-After.
func (d Decision) SetHeaders(h http.Header) {
	d.SetQuotaHeaders(h)
	if !d.Allowed {
		h.Set("Retry-After", strconv.Itoa(d.RetryAfterSeconds()))
	}
}

// SetQuotaHeaders sets Ratelimit-Limit and Ratelimit-Remaining on h: what
// a response that took no token (see Limiter.Peek) reports.
func (d Decision) SetQuotaHeaders(h http.Header) {
	h.Set("Ratelimit-Limit", strconv.Itoa(d.Limit))
	h.Set("Ratelimit-Remaining", strconv.Itoa(d.Remaining))
}

// Limiter takes one token from the bucket of policy p for key at time now.
// Buckets are identified by (p.Name, key.Scope, key.ID).
// Implementations must be safe for concurrent use; the error is for
// failures of the limiter itself (storage, cancelled ctx, invalid policy),
// never for a refusal, which is a Decision with Allowed false.
type Limiter interface {
	Take(ctx context.Context, key Key, p Policy, now time.Time) (Decision, error)
	// Peek reports the bucket as Take would find it, without taking a
	// token or changing it: Allowed says whether a token is available,
	// Remaining how many whole tokens are.
	Peek(ctx context.Context, key Key, p Policy, now time.Time) (Decision, error)
}

// Available is Peek's pure function: the decision Take would start from
// at now, with the tokens available rather than those left after one is
// taken.
func Available(state State, p Policy, now time.Time) Decision {
	d := Decision{Limit: p.Capacity}
	if p.Validate() != nil {
		return d
	}
	if state.Updated.IsZero() {
		d.Allowed, d.Remaining = true, p.Capacity
		return d
	}
	tokens := state.Tokens
	if since := now.Sub(state.Updated); since > 0 {
		tokens = min(tokens+float64(since)*float64(p.Refill)/float64(p.Period), float64(p.Capacity))
	}
	if r := math.Round(tokens); math.Abs(tokens-r) < epsilon {
		tokens = r
	}
	d.Remaining = int(max(tokens, 0))
	d.Allowed = d.Remaining >= 1
	if !d.Allowed {
		d.RetryAfter = state.untilTokens(1, p) - max(now.Sub(state.Updated), 0)
	}
	return d
}

// State is a bucket as stored: Tokens available as of Updated. The zero
// State is a full bucket.
type State struct {
	Tokens  float64
	Updated time.Time
}

// epsilon is the float rounding tolerated in token counts: a refill that
// lands within epsilon of a whole number of tokens is snapped to it, so that
// Remaining does not read n-1 for n - 1e-15 tokens.
const epsilon = 1e-12

// Apply takes one token from the bucket state under policy p at time now
// and returns the state to store with the decision. A refused request
// leaves the state unchanged. A clock that went backwards (now before
// state.Updated) mints no tokens and does not move Updated back, so no
// elapsed time is ever counted twice. p must be valid (see
// Policy.Validate); for an invalid policy Apply refuses with a zero
// RetryAfter and returns state unchanged.
//
// Whether a token is available is decided in time, by the same rounding
// that computes RetryAfter, so a request refused with RetryAfter r is
// refused again at now+r-1ns and allowed at now+r whatever the float error
// in the token count.
func Apply(state State, p Policy, now time.Time) (State, Decision) {
	d := Decision{Limit: p.Capacity}
	if p.Validate() != nil {
		return state, d
	}
	if state.Updated.IsZero() {
		state = State{Tokens: float64(p.Capacity), Updated: now}
	}
	since := now.Sub(state.Updated) // negative when the clock went back
	need := state.untilTokens(1, p)
	if max(since, 0) < need {
		d.RetryAfter = need - since
		return state, d
	}
	if since > 0 {
		state.Tokens += float64(since) * float64(p.Refill) / float64(p.Period)
		state.Updated = now
	}
	state.Tokens = min(state.Tokens, float64(p.Capacity)) - 1
	if r := math.Round(state.Tokens); math.Abs(state.Tokens-r) < epsilon {
		state.Tokens = r
	}
	state.Tokens = max(state.Tokens, 0)
	d.Allowed = true
	d.Remaining = int(state.Tokens)
	return state, d
}

// untilTokens is the time from s.Updated until s holds n tokens under p.
func (s State) untilTokens(n float64, p Policy) time.Duration {
	missing := n - s.Tokens
	if missing <= 0 {
		return 0
	}
	return ceilDuration(missing * float64(p.Period) / float64(p.Refill))
}

// FullAt is the time from which the bucket is full under p and thus equal
// to the zero State, so that a store may delete it (or expire it) from then
// on. For the zero State it is the zero time.
func (s State) FullAt(p Policy) time.Time {
	if s.Updated.IsZero() || p.Validate() != nil {
		return s.Updated
	}
	return s.Updated.Add(s.untilTokens(float64(p.Capacity), p))
}

// ceilDuration converts nanoseconds to a Duration, rounding up and
// saturating instead of overflowing. A relative 1e-14 (at most half a
// nanosecond), far above float64 rounding error, is forgiven so that
// 12e9+1e-7 gives 12s rather than 12s+1ns.
func ceilDuration(ns float64) time.Duration {
	ns = math.Ceil(ns - min(ns*1e-14, 0.5))
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}
