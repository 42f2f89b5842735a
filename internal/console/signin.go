package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mongodb-forks/digest"

	"github.com/snapexport/snapexport"
)

type signInData struct {
	// TTL is how long a session lasts at most.
	TTL     string
	Token   string
	Kind    string
	ID      string
	Message string
	Ended   string
}

// signInPage shows the form, with a fresh token in a cookie for the form
// to echo.
func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	if sess, _ := s.session(r); sess != nil {
		http.Redirect(w, r, Prefix+"projects", http.StatusSeeOther)
		return
	}
	token := randomToken()
	s.setCookie(w, r, signInCookie, token, time.Hour)
	s.render(w, r, http.StatusOK, "signin", "Sign in", signInData{TTL: humanDuration(s.sessionTTL()), Token: token, Kind: "serviceAccount", Ended: endedMessages[r.URL.Query().Get("ended")]})
}

// signIn checks the credentials through the API, as any client would
// present them (so the API's budget of failed authentications per address
// applies), and starts a session.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	kind, id, secret := r.PostFormValue("kind"), strings.TrimSpace(r.PostFormValue("id")), r.PostFormValue("secret")
	again := func(status int, message string) {
		token := randomToken()
		s.setCookie(w, r, signInCookie, token, time.Hour)
		s.render(w, r, status, "signin", "Sign in", signInData{TTL: humanDuration(s.sessionTTL()), Token: token, Kind: kind, ID: id, Message: message})
	}
	c, err := r.Cookie(signInCookie)
	if err != nil || !sameOrigin(r) || !sameToken(r.PostFormValue("csrf"), c.Value) {
		again(http.StatusForbidden, "This sign-in form has expired; please try again.")
		return
	}
	if id == "" || secret == "" {
		again(http.StatusBadRequest, "Enter both the id and the secret.")
		return
	}
	sess := &session{name: id, csrf: randomToken()}
	expires := s.now().Add(s.sessionTTL())
	switch kind {
	case "serviceAccount":
		sess.kind = snapexport.PrincipalServiceAccount
		token, ttl, message, status := s.issueToken(r, id, secret)
		if message != "" {
			again(status, message)
			return
		}
		sess.token = token
		if end := s.now().Add(ttl); end.Before(expires) {
			expires = end
		}
	case "apiKey":
		sess.kind = snapexport.PrincipalAPIKey
		if message, status := s.checkAPIKey(r, id, secret); message != "" {
			again(status, message)
			return
		}
	default:
		again(http.StatusBadRequest, "Choose a service account or an API key.")
		return
	}
	sess.expires = expires
	// A browser signing in again leaves no session of its own behind.
	if old, oldCookie := s.session(r); old != nil {
		s.endSession(r, old, oldCookie)
	}
	cookie := s.sessions.add(sess, s.now())
	s.setCookie(w, r, sessionCookie, cookie, expires.Sub(s.now()))
	s.clearCookie(w, r, signInCookie)
	s.logger().InfoContext(r.Context(), "console sign-in", "principal", id, "kind", string(sess.kind))
	http.Redirect(w, r, Prefix+"projects", http.StatusSeeOther)
}

// issueToken asks the API's token endpoint for an access token.
func (s *Server) issueToken(r *http.Request, id, secret string) (token string, ttl time.Duration, message string, status int) {
	form := url.Values{"grant_type": {"client_credentials"}}.Encode()
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, "http://console.internal/api/oauth/token", strings.NewReader(form))
	if err != nil {
		return "", 0, err.Error(), http.StatusInternalServerError
	}
	req.Host = r.Host
	req.Header = h
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := inProcess{api: s.API, from: r}.RoundTrip(req)
	if err != nil {
		return "", 0, err.Error(), http.StatusInternalServerError
	}
	defer resp.Body.Close()
	var answer struct {
		AccessToken      string `json:"access_token"`
		ExpiresIn        int    `json:"expires_in"`
		Error            any    `json:"error"`
		ErrorDescription string `json:"error_description"`
		Detail           string `json:"detail"`
		ErrorCode        string `json:"errorCode"`
	}
	json.NewDecoder(resp.Body).Decode(&answer)
	switch {
	case resp.StatusCode == http.StatusOK && answer.AccessToken != "":
		return answer.AccessToken, time.Duration(answer.ExpiresIn) * time.Second, "", 0
	case resp.StatusCode == http.StatusUnauthorized:
		return "", 0, "The client id or secret is wrong.", http.StatusUnauthorized
	case answer.Detail != "":
		return "", 0, (&apiError{ErrorCode: answer.ErrorCode, Detail: answer.Detail}).Error(), resp.StatusCode
	case answer.ErrorDescription != "":
		return "", 0, answer.ErrorDescription, resp.StatusCode
	}
	return "", 0, "The API answered " + resp.Status + ".", resp.StatusCode
}

// checkAPIKey makes one digest-authenticated request with the key.
func (s *Server) checkAPIKey(r *http.Request, publicKey, privateKey string) (message string, status int) {
	client := &http.Client{Transport: digest.NewTransportWithHTTPRoundTripper(publicKey, privateKey, inProcess{api: s.API, from: r})}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "http://console.internal/api/atlas/v2/groups?itemsPerPage=1", nil)
	if err != nil {
		return err.Error(), http.StatusInternalServerError
	}
	req.Host = r.Host
	req.Header.Set("Accept", v20230101)
	resp, err := client.Do(req)
	if err != nil {
		return "The API key could not be checked: " + err.Error(), http.StatusInternalServerError
	}
	err = decodeAnswer(resp, nil)
	switch e, _ := err.(*apiError); {
	case err == nil:
		return "", 0
	case e != nil && e.Status == http.StatusUnauthorized:
		return "The public or private key is wrong.", http.StatusUnauthorized
	case e != nil:
		return err.Error(), e.Status
	}
	return err.Error(), http.StatusInternalServerError
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r.Context())
	s.endSession(r, v.sess, v.cookie)
	s.clearCookie(w, r, sessionCookie)
	http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
}

// endSession forgets a session and revokes its access token.
func (s *Server) endSession(r *http.Request, sess *session, cookie string) {
	s.sessions.remove(cookie)
	if sess.token != "" {
		if err := s.Auth.DropToken(r.Context(), sess.token); err != nil {
			s.logger().WarnContext(r.Context(), "console sign-out: the access token was not revoked", "err", err)
		}
	}
}
