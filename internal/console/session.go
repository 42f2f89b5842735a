package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/snapexport/snapexport"
)

const (
	sessionCookie = "snapexport_session"
	// signInCookie carries the token the sign-in form must echo, so that
	// no other site can sign a browser in to an account of its choosing.
	signInCookie = "snapexport_signin"
	// maxSessions bounds the sessions held; the oldest go first.
	maxSessions = 10000
)

// A session is a signed-in browser. Sessions live in this process's
// memory: a restart signs everyone out, and nothing of them is stored.
type session struct {
	// kind is snapexport.PrincipalServiceAccount or PrincipalAPIKey.
	kind snapexport.PrincipalKind
	// name is the client id or the public key.
	name string
	// token is a service account's access token, checked at each request.
	token   string
	csrf    string
	expires time.Time
	// flash is what the next page shows once: an action's outcome.
	flash []flash
}

type flash struct {
	Error   bool
	Message string
	// Code is the API's errorCode of a refusal.
	Code string
}

// sessions maps the hash of a session cookie's value to its session, so
// that the map's keys are no cookie a browser could present (a service
// account's session still holds its access token).
type sessions struct {
	mu   sync.Mutex
	byID map[string]*session
}

func sessionKey(cookie string) string {
	sum := sha256.Sum256([]byte(cookie))
	return string(sum[:])
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (ss *sessions) add(sess *session, now time.Time) (cookie string) {
	cookie = randomToken()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.byID == nil {
		ss.byID = map[string]*session{}
	}
	if len(ss.byID) >= maxSessions {
		var oldestKey string
		var oldest time.Time
		for k, s := range ss.byID {
			if !now.Before(s.expires) {
				delete(ss.byID, k)
				continue
			}
			if oldestKey == "" || s.expires.Before(oldest) {
				oldestKey, oldest = k, s.expires
			}
		}
		if len(ss.byID) >= maxSessions {
			delete(ss.byID, oldestKey)
		}
	}
	ss.byID[sessionKey(cookie)] = sess
	return cookie
}

func (ss *sessions) get(cookie string, now time.Time) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	k := sessionKey(cookie)
	sess := ss.byID[k]
	if sess != nil && !now.Before(sess.expires) {
		delete(ss.byID, k)
		return nil
	}
	return sess
}

func (ss *sessions) remove(cookie string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.byID, sessionKey(cookie))
}

// addFlash keeps a message for the session's next page.
func (ss *sessions) addFlash(sess *session, f flash) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	sess.flash = append(sess.flash, f)
}

func (ss *sessions) takeFlash(sess *session) []flash {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	f := sess.flash
	sess.flash = nil
	return f
}

// secure tells whether cookies must be Secure: the request came over TLS,
// or the server's public URL is https.
func (s *Server) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.PublicURL, "https://")
}

func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: Prefix, MaxAge: int(maxAge / time.Second),
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteStrictMode})
}

func (s *Server) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: Prefix, MaxAge: -1,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteStrictMode})
}

// session returns the request's session, or nil; and the cookie's value.
func (s *Server) session(r *http.Request) (*session, string) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, ""
	}
	return s.sessions.get(c.Value, s.now()), c.Value
}

type visitKey struct{}

// visit is a signed-in request: its session and the principal the
// session stands for now.
type visit struct {
	sess      *session
	cookie    string
	principal *snapexport.Principal
}

func visitOf(ctx context.Context) *visit {
	v, _ := ctx.Value(visitKey{}).(*visit)
	return v
}

// signedIn serves h to a request with a live session whose principal
// still exists (and whose token is still valid); it sends anyone else to
// sign in. A POST must also come from the console's own pages: same
// origin, and the session's CSRF token in its form.
func (s *Server) signedIn(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, cookie := s.session(r)
		if sess == nil {
			if cookie != "" {
				s.clearCookie(w, r, sessionCookie)
			}
			s.toSignIn(w, r, "")
			return
		}
		if r.Method == http.MethodPost && (!sameOrigin(r) || !sameToken(r.PostFormValue("csrf"), sess.csrf)) {
			s.renderError(w, r, nil, http.StatusForbidden, "This form is not one the console gave this session; reload the page and try again.")
			return
		}
		p, ended, err := s.principalOf(r.Context(), sess)
		if ended != "" {
			s.sessions.remove(cookie)
			s.clearCookie(w, r, sessionCookie)
			s.toSignIn(w, r, ended)
			return
		}
		if err != nil {
			// The session stays: the database may be back at the next
			// request.
			s.logger().WarnContext(r.Context(), "console session not checked", "err", err)
			s.renderError(w, r, nil, http.StatusServiceUnavailable, "The service is temporarily unavailable; retry in a moment.")
			return
		}
		notesOf(r.Context()).principal = p.Name
		v := &visit{sess: sess, cookie: cookie, principal: p}
		h(w, r.WithContext(context.WithValue(r.Context(), visitKey{}, v)))
	}
}

// principalOf is who the session stands for now; ended names why the
// session is over (its token no longer valid, its key gone), err a
// failure to tell.
func (s *Server) principalOf(ctx context.Context, sess *session) (p *snapexport.Principal, ended string, err error) {
	if sess.kind == snapexport.PrincipalServiceAccount {
		p, f := s.Auth.TokenPrincipal(ctx, sess.token)
		switch {
		case f == nil:
			return p, "", nil
		case f.Err != nil:
			return nil, endedToken, nil
		}
		return nil, "", f
	}
	p, err = s.Auth.APIKeyPrincipal(ctx, sess.name)
	if errors.Is(err, snapexport.ErrNotFound) {
		return nil, endedKey, nil
	}
	return p, "", err
}

// Why a session ended, as the sign-in page's link names it.
const (
	endedToken = "token"
	endedKey   = "key"
)

// endedMessages are what the sign-in page says of each.
var endedMessages = map[string]string{
	endedToken: "Your session has ended: its access token expired or was revoked.",
	endedKey:   "Your session has ended: its API key no longer exists.",
}

// toSignIn answers a page request with the sign-in page's address, and an
// event stream with 401, which a page's script turns into a reload.
func (s *Server) toSignIn(w http.ResponseWriter, r *http.Request, why string) {
	if strings.HasSuffix(r.URL.Path, "/events") {
		http.Error(w, "signed out", http.StatusUnauthorized)
		return
	}
	target := Prefix + "signin"
	if why != "" {
		target += "?ended=" + url.QueryEscape(why)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func sameToken(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// sameOrigin refuses a request a browser says another site sent: by
// Sec-Fetch-Site, or by an Origin whose host is not the request's.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin) // "null" parses with no host
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	return true
}
