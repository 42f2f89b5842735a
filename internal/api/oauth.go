package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/auth"
	"github.com/snapexport/snapexport/internal/openapi"
)

// oauthError is an RFC 6749 §5.2 error response.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("Www-Authenticate", `Basic realm="`+auth.Realm+`"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

// readClientRequest parses the form of a token or revoke request and the
// client's credentials, from HTTP Basic or else from the form; it answers
// the request itself when either is missing or malformed, and with 429
// while the client's address has no failed authentications left.
func (s *Server) readClientRequest(w http.ResponseWriter, r *http.Request) (client auth.Client, ok bool) {
	id, secret, ok := readClientCredentials(w, r)
	if !ok {
		return auth.Client{}, false
	}
	client = auth.Client{ID: id, Secret: secret, Address: s.clientAddress(r)}
	if err := s.admitAuthentication(w, r, client.Address); err != nil {
		s.oauthFailure(w, r, "authenticate client", client, err)
		return auth.Client{}, false
	}
	return client, true
}

func readClientCredentials(w http.ResponseWriter, r *http.Request) (id, secret string, ok bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The request body is not a valid form.")
		return "", "", false
	}
	id, secret, ok = clientCredentials(r)
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication is required.")
		return "", "", false
	}
	return id, secret, true
}

// clientCredentials reads HTTP Basic client authentication, whose parts
// are form-encoded (RFC 6749 §2.3.1).
func clientCredentials(r *http.Request) (id, secret string, ok bool) {
	id, secret, ok = r.BasicAuth()
	if !ok {
		return "", "", false
	}
	uid, err1 := url.QueryUnescape(id)
	usecret, err2 := url.QueryUnescape(secret)
	if err1 != nil || err2 != nil {
		return id, secret, true
	}
	return uid, usecret, true
}

// token issues an access token for the client-credentials grant.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	client, ok := s.readClientRequest(w, r)
	if !ok {
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Only the client_credentials grant is supported.")
		return
	}
	tok, err := s.Auth.IssueToken(r.Context(), client)
	if err != nil {
		s.oauthFailure(w, r, "issue token", client, err)
		return
	}
	setPrincipalName(r, client.ID)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok.AccessToken, "expires_in": tok.ExpiresIn, "token_type": "Bearer"})
}

// revoke revokes an access token (RFC 7009).
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	client, ok := s.readClientRequest(w, r)
	if !ok {
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The token parameter is required.")
		return
	}
	if err := s.Auth.RevokeToken(r.Context(), client, token); err != nil {
		s.oauthFailure(w, r, "revoke token", client, err)
		return
	}
	setPrincipalName(r, client.ID)
	w.WriteHeader(http.StatusOK)
}

// oauthFailure answers a token or revoke request of client that failed:
// 401 for credentials that are not a client's (spending one of its
// address's failed authentications), 429 with Atlas's error once they are
// spent, and on the server's side 503 while the database is unreachable,
// 500 otherwise.
func (s *Server) oauthFailure(w http.ResponseWriter, r *http.Request, what string, client auth.Client, err error) {
	if errors.Is(err, auth.ErrInvalidClient) {
		noteUnauthenticated(r, false, err.Error())
		if err = s.authenticationFailed(w, r, client.Address); err == nil {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "The client credentials are invalid.")
			return
		}
	}
	var e *snapexport.Error
	if errors.As(err, &e) && e.Code == snapexport.CodeRateLimitedTokenBucket {
		w.Header().Set("Cache-Control", "no-store")
		writeError(w, e, false, false)
		return
	}
	if s.Unavailable != nil && s.Unavailable(err) {
		s.logger().WarnContext(r.Context(), what+": database unavailable", "err", err)
		w.Header().Set("Retry-After", "1")
		oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "The service is temporarily unavailable; retry the request.")
		return
	}
	s.logger().ErrorContext(r.Context(), what, "err", err)
	oauthError(w, http.StatusInternalServerError, "server_error", "Unexpected error.")
}

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Write(openapi.Document)
}
