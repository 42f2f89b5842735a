// Package api serves the Atlas Administration API for export buckets, cloud
// provider access roles and projects, under /api/atlas/v1.0 and
// /api/atlas/v2, with Atlas's versions, authentication, errors, pagination
// and rate limits, and snapexport's own operations (snapshot upload, export
// cancel) under /api/snapexport/v1, through the same steps.
package api

import (
	"bytes"
	"cmp"
	"log/slog"
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/ratelimit"
	"github.com/snapexport/snapexport/internal/service"
)

// Limits are the token buckets of each endpoint set: per project, but
// Projects per organization.
type Limits struct {
	CloudBackups        ratelimit.Policy
	CloudProviderAccess ratelimit.Policy
	Clusters            ratelimit.Policy
	Projects            ratelimit.Policy
	// FailedAuthentications is the budget of failed authentications per
	// client address (ratelimit.FailedAuthentications when zero).
	FailedAuthentications ratelimit.Policy
	// Disabled turns rate limiting off, failed authentications' too.
	Disabled bool
}

// DefaultLimits are Atlas's capacities and refill rates, published or
// chosen where Atlas publishes none (see ratelimit.Clusters and
// ratelimit.Projects).
func DefaultLimits() Limits {
	return Limits{CloudBackups: ratelimit.CloudBackups(), CloudProviderAccess: ratelimit.CloudProviderAccess(),
		Clusters: ratelimit.Clusters(), Projects: ratelimit.Projects(), FailedAuthentications: ratelimit.FailedAuthentications()}
}

// Server is the HTTP API.
type Server struct {
	Service *service.Service
	Auth    *auth.Authenticator
	Limiter ratelimit.Limiter
	Limits  Limits
	// PublicURL is the base of absolute links (e.g. https://backup.example.com);
	// when empty, links are built from the request's scheme and Host.
	PublicURL string
	Logger    *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Unavailable tells errors that mean the database cannot be reached
	// (answered 503 SERVICE_UNAVAILABLE) from other failures (500).
	Unavailable func(error) bool
	// MaxUploadBytes bounds an archive sent to the upload endpoint
	// (DefaultMaxUploadBytes when zero).
	MaxUploadBytes int64
	// UploadTimeout bounds the whole of an upload, however steadily it
	// sends (DefaultUploadTimeout when zero).
	UploadTimeout time.Duration
	// TrustedProxies are the networks of the proxies whose X-Forwarded-For
	// tells the client's address (see clientAddress); none when empty.
	TrustedProxies []netip.Prefix
	// Observer, when set, is told of every request once answered.
	Observer Observer
	// Tracing makes a span of every request; none when nil.
	Tracing trace.TracerProvider
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// limitSet names the rate-limit set of an operation.
type limitSet int

const (
	noLimit limitSet = iota
	cloudBackups
	cloudProviderAccess
	clustersSet
	projectsSet
)

// name is the set's key under rateLimits in the configuration file.
func (l limitSet) name() string {
	switch l {
	case cloudBackups:
		return "cloudBackups"
	case cloudProviderAccess:
		return "cloudProviderAccess"
	case clustersSet:
		return "clusters"
	case projectsSet:
		return "projects"
	}
	return "none"
}

// The families of paths operations are served under: Atlas's dated API,
// its legacy v1.0 and snapexport's own endpoints, which Atlas does not have.
const (
	atlasV2Prefix = "/api/atlas/v2"
	atlasV1Prefix = "/api/atlas/v1.0"
	ownPrefix     = "/api/snapexport/v1"
)

// operation is one API operation: where it lives, which versions serve it,
// which project role it needs and how it is handled.
type operation struct {
	id     string // Atlas operationId, or snapexport's name of its own, for logs
	method string
	path   string // below the prefix of its family
	v2     []version
	v1     bool
	// own serves the operation under ownPrefix only, as plain
	// application/json without version negotiation.
	own bool
	// role is the project role the caller needs when the path has a
	// groupId; v1Role overrides it for the v1.0 path.
	role, v1Role snapexport.Role
	limit        limitSet
	handle       func(*call) (*response, error)
}

// call is one request to an operation, past authentication, versioning
// and authorization.
type call struct {
	r *http.Request
	// w is for handlers that manage the connection itself (the upload's
	// size limit and read deadline); the response is the handler's result.
	w         http.ResponseWriter
	version   string // date, v1, or "" for snapexport's own operations
	principal *snapexport.Principal
	project   *snapexport.Project
	srv       *Server
}

// response is what a handler produced: a status and a body (nil for none).
type response struct {
	status int
	body   any
}

func ok(body any) (*response, error) { return &response{status: http.StatusOK, body: body}, nil }

var noContent = &response{status: http.StatusNoContent}

// Route is one method on one path pattern the API serves, as ServeMux
// patterns spell paths: what tests walk to cover every route.
type Route struct {
	Method      string
	Pattern     string
	OperationID string
	// Versions are the dated versions of a route under /api/atlas/v2.
	Versions []string
	// Own is an operation of snapexport's own, whose other methods are
	// answered as unknown paths.
	Own bool
}

// Routes lists every operation's route, sorted by pattern and method.
func (s *Server) Routes() []Route {
	var out []Route
	for _, op := range s.operations() {
		for _, prefix := range op.prefixes() {
			r := Route{Method: op.method, Pattern: prefix + op.path, OperationID: op.id, Own: op.own}
			if prefix == atlasV2Prefix {
				for _, v := range op.v2 {
					r.Versions = append(r.Versions, v.Date)
				}
			}
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Route) int {
		return cmp.Or(strings.Compare(a.Pattern, b.Pattern), strings.Compare(a.Method, b.Method))
	})
	return out
}

// Handler returns the API's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	byPath := map[string]map[string]operation{}
	for _, op := range s.operations() {
		for _, prefix := range op.prefixes() {
			p := prefix + op.path
			if op.own {
				// Matching the method too leaves another method on
				// snapexport's own paths to the catch-all: 404
				// RESOURCE_NOT_FOUND, which these endpoints have always
				// answered, rather than Atlas's METHOD_NOT_ALLOWED.
				p = op.method + " " + p
			}
			if byPath[p] == nil {
				byPath[p] = map[string]operation{}
			}
			byPath[p][op.method] = op
		}
	}
	for p, ops := range byPath {
		var apiVersion string
		switch {
		case strings.HasPrefix(p, atlasV2Prefix):
			apiVersion = v2
		case strings.HasPrefix(p, atlasV1Prefix):
			apiVersion = v1
		}
		allow := strings.Join(slices.Sorted(maps.Keys(ops)), ", ")
		own := false
		for _, op := range ops {
			own = own || op.own
		}
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			op, found := ops[r.Method]
			if !found && own {
				// HEAD on an own GET path, which its pattern matches.
				s.refuse(w, r, "", snapexport.Errorf(snapexport.CodeResourceNotFound, "Cannot find resource %s.", r.URL.Path))
				return
			}
			if !found {
				s.refuse(w, r, allow, snapexport.Errorf(snapexport.CodeMethodNotAllowed, "Method %s is not allowed on %s.", r.Method, r.URL.Path))
				return
			}
			noteOperation(r, op.id, apiVersion)
			s.serve(w, r, op, apiVersion)
		})
	}
	mux.HandleFunc("POST /api/oauth/token", named("oauthToken", s.token))
	mux.HandleFunc("POST /api/oauth/revoke", named("oauthRevoke", s.revoke))
	mux.HandleFunc("GET "+atlasV2Prefix+"/openapi.yaml", named("openapi", serveOpenAPI))
	mux.HandleFunc("GET /api/private/unauth/nds/defaultMongoDBMajorVersion", named("getDefaultMongoDBMajorVersion", serveDefaultMongoDBMajorVersion))
	mux.HandleFunc("GET /healthz", named("healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"OK"}`))
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.refuse(w, r, "", snapexport.Errorf(snapexport.CodeResourceNotFound, "Cannot find resource %s.", r.URL.Path))
	})
	return s.logRequests(s.screen(mux))
}

// MaxHeaderBytes bounds a request's line and headers, as Go's server does
// by default; a larger request is answered 431 with an ApiError.
// ListenerMaxHeaderBytes is what the HTTP server must read for that answer
// to be the handler's: beyond it, Go answers a plain-text 431 itself.
const (
	MaxHeaderBytes         = http.DefaultMaxHeaderBytes
	ListenerMaxHeaderBytes = 4 * MaxHeaderBytes
)

// screen answers, with Atlas-style errors, what Go's server and ServeMux
// would answer by themselves: headers over MaxHeaderBytes (a plain-text
// 431), and paths with dot segments or empty segments, which ServeMux
// redirects to the cleaned path; such a path names no resource.
func (s *Server) screen(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if headerBytes(r) > MaxHeaderBytes {
			w.Header().Set("Connection", "close")
			s.writeErr(w, r, snapexport.Errorf(snapexport.CodeRequestHeadersTooLarge,
				"The request's headers are larger than %s bytes.", strconv.Itoa(MaxHeaderBytes)), false, false)
			return
		}
		if uncleanPath(r.URL.Path) {
			s.refuse(w, r, "", snapexport.Errorf(snapexport.CodeResourceNotFound, "Cannot find resource %s.", r.URL.Path))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// headerBytes is the size of r's request line and headers as sent, as
// Go's server counts them against its limit.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	n += len("Host: ") + len(r.Host) + 2
	for name, values := range r.Header {
		for _, v := range values {
			n += len(name) + 2 + len(v) + 2
		}
	}
	return n + 2
}

// uncleanPath reports a path ServeMux would clean: one with a "." or ".."
// segment or an empty one ("//").
func uncleanPath(p string) bool {
	if p == "" || p == "/" {
		return false
	}
	segs := strings.Split(p[1:], "/")
	for i, seg := range segs {
		if seg == "." || seg == ".." || seg == "" && i < len(segs)-1 {
			return true
		}
	}
	return false
}

// refuse answers a request no operation serves with err (and, for a
// method the path lacks, the Allow header of the methods it has) once the
// caller is authenticated, as Atlas answers every request: an
// unauthenticated one gets the digest challenge, whatever its path or
// method. It has no envelope or version.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, allow string, err error) {
	pretty, _ := queryBool(r.URL.Query(), "pretty", false)
	fail := func(err error) { s.writeErr(w, r, err, pretty, false) }
	if s.authenticate(w, r, fail) == nil {
		return
	}
	if allow != "" {
		w.Header().Set("Allow", allow)
	}
	fail(err)
}

func (op operation) prefixes() []string {
	if op.own {
		return []string{ownPrefix}
	}
	var out []string
	if len(op.v2) > 0 {
		out = append(out, atlasV2Prefix)
	}
	if op.v1 {
		out = append(out, atlasV1Prefix)
	}
	return out
}

var errUnavailable = snapexport.Errorf(snapexport.CodeServiceUnavailable,
	"The service is temporarily unavailable; retry the request.")

func (s *Server) writeErr(w http.ResponseWriter, r *http.Request, err error, pretty, envelope bool) {
	e := snapexport.AsError(err)
	status := Status(e.Code)
	if status == http.StatusInternalServerError && s.Unavailable != nil && s.Unavailable(err) {
		s.logger().WarnContext(r.Context(), "database unavailable", "request_id", notesOf(r).requestID, "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "1")
		writeError(w, errUnavailable, pretty, envelope)
		return
	}
	if status >= 500 {
		s.logger().ErrorContext(r.Context(), "request failed", "request_id", notesOf(r).requestID, "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, e, pretty, envelope)
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// serve runs the steps every operation shares, in Atlas's order:
// authentication, version (for the dated paths, apiVersion v2), project,
// role, rate limit, then the handler.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, op operation, apiVersion string) {
	q := r.URL.Query()
	// Invalid values are reported after authentication, so that an
	// unauthenticated caller gets the digest challenge first.
	pretty, prettyErr := queryBool(q, "pretty", false)
	envelope, envelopeErr := queryBool(q, "envelope", false)
	fail := func(err error) { s.writeErr(w, r, err, pretty, envelope) }
	var shared *snapexport.SharedRead
	if op.method == http.MethodGet {
		// A GET's reads (its caller's principal when not known already,
		// the project, the resource) share one read transaction, ended
		// before the answer is written.
		ctx := r.Context()
		ctx, shared = snapexport.WithSharedRead(ctx)
		r = r.WithContext(ctx)
		defer shared.End()
	}

	principal := s.authenticate(w, r, fail)
	if principal == nil {
		return
	}
	// Until a token is taken, an answer of a rate-limited operation reports
	// its bucket as it is, as Atlas's answers all carry the headers.
	tokenTaken := false
	fail = func(err error) {
		if !tokenTaken {
			s.peekToken(w, r, op, principal)
		}
		s.writeErr(w, r, err, pretty, envelope)
	}
	if prettyErr != nil {
		s.peekToken(w, r, op, principal)
		s.writeErr(w, r, prettyErr, false, false)
		return
	}
	if envelopeErr != nil {
		s.peekToken(w, r, op, principal)
		s.writeErr(w, r, envelopeErr, pretty, false)
		return
	}

	c := &call{r: r, w: w, version: apiVersion, principal: principal, srv: s}
	contentType := "application/json"
	if apiVersion == v2 {
		v, err := negotiate(r.Header.Get("Accept"), op.v2, s.now())
		if err != nil {
			fail(err)
			return
		}
		v.setHeaders(w.Header())
		c.version, contentType = v.Date, v.contentType()
		notesOf(r).version = v.Date
	}

	if groupID := r.PathValue("groupId"); groupID != "" {
		role := op.role
		if c.version == v1 && op.v1Role != "" {
			role = op.v1Role
		}
		var err error
		if c.project, err = s.authorizeProject(r, principal, groupID, role); err != nil {
			fail(err)
			return
		}
	}
	tokenTaken = true
	if !s.takeToken(w, r, op, c, fail) {
		return
	}

	resp, err := op.handle(c)
	if shared != nil {
		shared.End()
	}
	if err != nil {
		fail(err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	if resp.body == nil {
		w.WriteHeader(resp.status)
		return
	}
	var body any = resp.body
	if envelope {
		body = envelopeOf(resp)
	}
	buf := answerBuffers.Get().(*bytes.Buffer)
	defer keepAnswerBuffer(buf)
	if err := encodeInto(buf, body, pretty); err != nil {
		fail(err)
		return
	}
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(resp.status)
	w.Write(buf.Bytes())
}

// authenticate identifies the caller of r. When it cannot, it answers the
// digest challenge or the failure (through fail) and returns nil. A
// request that carries credentials is refused with 429 while its client
// has no failed authentications left, and spends one when they are
// refused; a request without any, the first round trip of digest
// authentication, is answered the challenge whatever the budget.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, fail func(error)) *snapexport.Principal {
	if p := callerOf(r.Context()); p != nil {
		setPrincipal(r, p)
		return p
	}
	address := s.clientAddress(r)
	if r.Header.Get("Authorization") != "" {
		if err := s.admitAuthentication(w, r, address); err != nil {
			fail(err)
			return nil
		}
	}
	principal, failure := s.Auth.Authenticate(r)
	if failure != nil {
		if failure.Refused != "" {
			if err := s.authenticationFailed(w, r, address); err != nil {
				noteUnauthenticated(r, false, failure.Refused)
				fail(err)
				return nil
			}
		}
		switch {
		case failure.Challenge != "":
			noteUnauthenticated(r, true, failure.Refused)
			writeChallenge(w, failure.Challenge)
		case failure.Err != nil:
			noteUnauthenticated(r, false, failure.Refused)
			fail(failure.Err)
		default:
			fail(failure)
		}
		return nil
	}
	setPrincipal(r, principal)
	return principal
}

// envelopeOf wraps a body for envelope=true: lists gain a status field,
// single entities become {"status", "content"}.
func envelopeOf(resp *response) any {
	if l, isList := resp.body.(listView); isList {
		l.Status = resp.status
		return l
	}
	return map[string]any{"status": resp.status, "content": resp.body}
}

func (s *Server) authorizeProject(r *http.Request, p *snapexport.Principal, groupID string, role snapexport.Role) (*snapexport.Project, error) {
	if !snapexport.IsObjectID(groupID) {
		return nil, snapexport.Errorf(snapexport.CodeInvalidGroupID, "An invalid group ID %s was specified.", groupID)
	}
	project, err := s.Service.Project(r.Context(), groupID)
	if err != nil {
		return nil, err
	}
	if !p.InProject(project.OrgID, project.ID) {
		return nil, snapexport.Errorf(snapexport.CodeNotInGroup, "The current user is not in the group, or the group does not exist.")
	}
	if !p.CanAccessProject(project.OrgID, project.ID, role) {
		return nil, snapexport.Errorf(snapexport.CodeUserUnauthorized, "Current user is not authorized to perform this action.")
	}
	return project, nil
}

// policy is the rate limit of op and the scope its buckets are kept per,
// if rate limiting applies to it.
func (s *Server) policy(op operation) (ratelimit.Policy, ratelimit.Scope, bool) {
	if s.Limits.Disabled || s.Limiter == nil {
		return ratelimit.Policy{}, "", false
	}
	switch op.limit {
	case cloudBackups:
		return s.Limits.CloudBackups, ratelimit.PerProject, true
	case cloudProviderAccess:
		return s.Limits.CloudProviderAccess, ratelimit.PerProject, true
	case clustersSet:
		return s.Limits.Clusters, ratelimit.PerProject, true
	case projectsSet:
		return s.Limits.Projects, ratelimit.PerOrganization, true
	}
	return ratelimit.Policy{}, "", false
}

// bucket is the bucket of op's rate limit that a request draws on, when
// op is limited: the project's (projectID, the id of the path's project)
// or, for a set scoped per organization, the caller's organization's,
// where every project the caller may create or read lives. A request
// without such an id has no bucket.
func (s *Server) bucket(op operation, principal *snapexport.Principal, projectID string) (ratelimit.Policy, ratelimit.Key, bool) {
	policy, scope, limited := s.policy(op)
	if !limited {
		return ratelimit.Policy{}, ratelimit.Key{}, false
	}
	key := ratelimit.ProjectKey(projectID)
	if scope == ratelimit.PerOrganization {
		key = ratelimit.OrganizationKey(principal.OrgID)
	}
	return policy, key, snapexport.IsObjectID(key.ID)
}

// peekToken sets the RateLimit headers of an answer of op that took no
// token (refused before the rate limit step) from the bucket the request
// would draw on, without spending a token: a caller refused access to a
// project cannot drain its budget. A path without a well-formed project id
// has no bucket to report; a failure of the limiter leaves the headers out
// rather than hiding the answer.
func (s *Server) peekToken(w http.ResponseWriter, r *http.Request, op operation, principal *snapexport.Principal) {
	policy, key, limited := s.bucket(op, principal, r.PathValue("groupId"))
	if !limited {
		return
	}
	if d, err := s.Limiter.Peek(r.Context(), key, policy, s.now()); err == nil {
		d.SetQuotaHeaders(w.Header())
	}
}

// takeToken applies the operation's rate limit and sets the RateLimit
// headers; on refusal it writes the 429 and returns false.
func (s *Server) takeToken(w http.ResponseWriter, r *http.Request, op operation, c *call, fail func(error)) bool {
	var projectID string
	if c.project != nil {
		projectID = c.project.ID
	}
	policy, key, limited := s.bucket(op, c.principal, projectID)
	if !limited {
		return true
	}
	d, err := s.Limiter.Take(r.Context(), key, policy, s.now())
	if err != nil {
		fail(err)
		return false
	}
	d.SetHeaders(w.Header())
	if d.Allowed {
		return true
	}
	notesOf(r).rateLimited = op.limit.name()
	fail(exceeded(r, policy, d))
	return false
}

// exceeded is Atlas's 429 for a request to r's path that the bucket of
// policy refused with d.
func exceeded(r *http.Request, policy ratelimit.Policy, d ratelimit.Decision) *snapexport.Error {
	resource := strings.TrimPrefix(r.URL.Path, "/")
	e := snapexport.Errorf(snapexport.CodeRateLimitedTokenBucket, "%s",
		policy.ExceededDetail(resource, d))
	e.Params = []string{resource, strconv.Itoa(d.RetryAfterSeconds()), strconv.Itoa(policy.Capacity),
		strconv.Itoa(policy.Refill), strconv.Itoa(int(policy.Period / time.Second))}
	return e
}

// baseURL is the scheme and host links start with.
func (c *call) baseURL() string {
	if c.srv.PublicURL != "" {
		return strings.TrimSuffix(c.srv.PublicURL, "/")
	}
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.r.Host
}

// link is Atlas's Link object.
type link struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// listView is a paginated list.
type listView struct {
	Links      []link `json:"links"`
	Results    any    `json:"results"`
	Status     int    `json:"status,omitempty"`
	TotalCount *int   `json:"totalCount,omitempty"`
}

// listPage answers one page of a paginated list: read fetches the page's
// items and the list's total, view renders each item.
func listPage[T, V any](c *call, view func(T) V, read func(snapexport.Page) ([]T, int, error)) (*response, error) {
	p, err := parsePagination(c.r.URL.Query())
	if err != nil {
		return nil, err
	}
	items, total, err := read(p.page())
	if err != nil {
		return nil, err
	}
	return listOf(c, p, items, total, view), nil
}

// listOf renders the items of page p of a list of total items, each by
// view, with Atlas's self, previous and next links.
func listOf[T, V any](c *call, p pagination, items []T, total int, view func(T) V) *response {
	u := c.baseURL() + c.r.URL.Path
	links := []link{{Href: u + "?" + pageQuery(p.IncludeCount, "pageNum", p.PageNum, "itemsPerPage", p.ItemsPerPage), Rel: "self"}}
	if p.PageNum > 1 {
		links = append(links, link{Href: u + "?" + pageQuery(p.IncludeCount, "itemsPerPage", p.ItemsPerPage, "pageNum", p.PageNum-1), Rel: "previous"})
	}
	if (p.PageNum-1)*p.ItemsPerPage+len(items) < total {
		links = append(links, link{Href: u + "?" + pageQuery(p.IncludeCount, "itemsPerPage", p.ItemsPerPage, "pageNum", p.PageNum+1), Rel: "next"})
	}
	views := make([]V, len(items))
	for i, item := range items {
		views[i] = view(item)
	}
	v := listView{Links: links, Results: views}
	if p.IncludeCount {
		v.TotalCount = &total
	}
	return &response{status: http.StatusOK, body: v}
}

// pageQuery spells the query of a page link in Atlas's parameter order.
func pageQuery(includeCount bool, k1 string, v1 int, k2 string, v2 int) string {
	return "includeCount=" + strconv.FormatBool(includeCount) + "&" + k1 + "=" + strconv.Itoa(v1) + "&" + k2 + "=" + strconv.Itoa(v2)
}

// formatTime is Atlas's timestamp form: ISO-8601, UTC, seconds.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
