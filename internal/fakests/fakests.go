// Package fakests is an AWS STS endpoint for tests, on loopback. It speaks
// the STS Query API's AssumeRole as the AWS SDKs call it: a signed POST of
// the form Action=AssumeRole&Version=2011-06-15&RoleArn=…&RoleSessionName=…
// &ExternalId=…&DurationSeconds=…, answered with AssumeRoleResponse XML or
// an ErrorResponse. It checks the role ARN and external id against the
// roles it was given, records every call, and remembers the temporary
// credentials it issued so that tests can check which ones an S3 request
// carried.
package fakests

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Call is one AssumeRole request as received.
type Call struct {
	RoleARN         string
	ExternalID      string
	RoleSessionName string
	DurationSeconds int
	// CallerAccessKeyID is the access key that signed the request.
	CallerAccessKeyID string
	// ErrorCode is the STS error answered, "" on success.
	ErrorCode string
}

// Credentials are temporary credentials the server issued.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
	RoleARN         string
}

// Server is a running fake STS endpoint.
type Server struct {
	// URL is the endpoint, e.g. http://127.0.0.1:38517.
	URL string
	srv *httptest.Server

	mu       sync.Mutex
	roles    map[string]string // role ARN → required external id ("" = none)
	callers  map[string]bool   // access keys allowed to call; empty allows any
	lifetime time.Duration     // when set, overrides DurationSeconds
	calls    []Call
	issued   map[string]Credentials
	failNext int // answer this many calls with 503 first
}

// New starts a server on loopback. Close it when done.
func New() *Server {
	s := &Server{roles: map[string]string{}, callers: map[string]bool{}, issued: map[string]Credentials{}}
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// AddRole lets callers assume arn when they present externalID (none when
// externalID is "").
func (s *Server) AddRole(arn, externalID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[arn] = externalID
}

// AllowCaller restricts the callers to the given access keys; any other
// signing key gets InvalidClientTokenId.
func (s *Server) AllowCaller(accessKeyID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callers[accessKeyID] = true
}

// SetLifetime makes issued credentials expire d after issue, whatever
// DurationSeconds asked for; 0 restores DurationSeconds.
func (s *Server) SetLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lifetime = d
}

// FailNext answers the next n calls with 503 ServiceUnavailable.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// Calls returns the calls received so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Lookup returns the credentials issued with accessKeyID.
func (s *Server) Lookup(accessKeyID string) (Credentials, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.issued[accessKeyID]
	return c, ok
}

const xmlns = "https://sts.amazonaws.com/doc/2011-06-15/"

type assumeRoleResponse struct {
	XMLName xml.Name `xml:"AssumeRoleResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		AssumedRoleUser struct {
			AssumedRoleID string `xml:"AssumedRoleId"`
			Arn           string `xml:"Arn"`
		} `xml:"AssumedRoleUser"`
		Credentials struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string `xml:"SecretAccessKey"`
			SessionToken    string `xml:"SessionToken"`
			Expiration      string `xml:"Expiration"`
		} `xml:"Credentials"`
	} `xml:"AssumeRoleResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

type errorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

var credentialRE = regexp.MustCompile(`Credential=([^/,\s]+)/`)

var sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// ServeHTTP implements the STS Query API's AssumeRole.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "Sender", "InvalidAction", "STS accepts POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "Sender", "MalformedInput", "the body is not a form")
		return
	}
	call := Call{
		RoleARN:         r.PostForm.Get("RoleArn"),
		ExternalID:      r.PostForm.Get("ExternalId"),
		RoleSessionName: r.PostForm.Get("RoleSessionName"),
	}
	call.DurationSeconds, _ = strconv.Atoi(r.PostForm.Get("DurationSeconds"))
	if m := credentialRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		call.CallerAccessKeyID = m[1]
	}
	status, typ, code, msg := s.check(r, call)
	if code != "" {
		call.ErrorCode = code
		s.record(call)
		writeError(w, status, typ, code, msg)
		return
	}

	s.mu.Lock()
	lifetime := s.lifetime
	s.mu.Unlock()
	if lifetime == 0 {
		lifetime = time.Duration(call.DurationSeconds) * time.Second
		if lifetime == 0 {
			lifetime = time.Hour
		}
	}
	c := Credentials{
		AccessKeyID:     "ASIA" + strings.ToUpper(randomHex(8)),
		SecretAccessKey: randomHex(20),
		SessionToken:    "FQoGZXIvYXdzE" + randomHex(32),
		Expiration:      time.Now().Add(lifetime).UTC().Truncate(time.Second),
		RoleARN:         call.RoleARN,
	}
	s.mu.Lock()
	s.issued[c.AccessKeyID] = c
	s.mu.Unlock()
	s.record(call)

	var resp assumeRoleResponse
	resp.Xmlns = xmlns
	roleName := call.RoleARN[strings.LastIndex(call.RoleARN, "/")+1:]
	account := "000000000000"
	if parts := strings.Split(call.RoleARN, ":"); len(parts) > 4 && parts[4] != "" {
		account = parts[4]
	}
	resp.Result.AssumedRoleUser.AssumedRoleID = "AROA" + strings.ToUpper(randomHex(8)) + ":" + call.RoleSessionName
	resp.Result.AssumedRoleUser.Arn = fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", account, roleName, call.RoleSessionName)
	resp.Result.Credentials.AccessKeyID = c.AccessKeyID
	resp.Result.Credentials.SecretAccessKey = c.SecretAccessKey
	resp.Result.Credentials.SessionToken = c.SessionToken
	resp.Result.Credentials.Expiration = c.Expiration.Format(time.RFC3339)
	resp.RequestID = randomHex(16)
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(resp)
}

// check validates a call; code "" means it succeeds.
func (s *Server) check(r *http.Request, call Call) (status int, typ, code, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		return http.StatusServiceUnavailable, "Receiver", "ServiceUnavailable", "injected fault"
	}
	if r.PostForm.Get("Action") != "AssumeRole" {
		return http.StatusBadRequest, "Sender", "InvalidAction", "only AssumeRole is implemented"
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") || call.CallerAccessKeyID == "" {
		return http.StatusForbidden, "Sender", "MissingAuthenticationToken", "Request is missing Authentication Token"
	}
	if len(s.callers) > 0 && !s.callers[call.CallerAccessKeyID] {
		return http.StatusForbidden, "Sender", "InvalidClientTokenId", "The security token included in the request is invalid."
	}
	if call.RoleARN == "" || !sessionNameRE.MatchString(call.RoleSessionName) {
		return http.StatusBadRequest, "Sender", "ValidationError", "RoleArn and a valid RoleSessionName are required"
	}
	if d := call.DurationSeconds; d != 0 && (d < 900 || d > 43200) {
		return http.StatusBadRequest, "Sender", "ValidationError", "DurationSeconds must be between 900 and 43200"
	}
	want, ok := s.roles[call.RoleARN]
	if !ok || want != call.ExternalID {
		return http.StatusForbidden, "Sender", "AccessDenied",
			fmt.Sprintf("User: arn:aws:iam::000000000000:user/%s is not authorized to perform: sts:AssumeRole on resource: %s", call.CallerAccessKeyID, call.RoleARN)
	}
	return 0, "", "", ""
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

func writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	var e errorResponse
	e.Xmlns = xmlns
	e.Error.Type, e.Error.Code, e.Error.Message = typ, code, msg
	e.RequestID = randomHex(16)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(e)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
