package api

import (
	"cmp"
	"net/http"

	"github.com/snapexport/snapexport/internal/ratelimit"
)

// failedAuthentications is the policy of the budget of failed
// authentications per client address, unless rate limiting is off.
func (s *Server) failedAuthentications() (ratelimit.Policy, bool) {
	if s.Limits.Disabled || s.Limiter == nil {
		return ratelimit.Policy{}, false
	}
	return cmp.Or(s.Limits.FailedAuthentications, ratelimit.FailedAuthentications()), true
}

// admitAuthentication checks, before credentials are checked, that the
// client at address has failed authentications left: once it has spent
// them, every attempt is refused, a correct one too, until a token refills,
// so that a guess that happens to be right cannot be told from a wrong
// one. It returns nil, the 429 to answer (its headers set on w), or the
// limiter's failure.
func (s *Server) admitAuthentication(w http.ResponseWriter, r *http.Request, address string) error {
	return s.failedAuthenticationsLeft(w, r, address, false)
}

// authenticationFailed spends one of the failed authentications of the
// client at address. It returns nil when one was left, and otherwise the
// 429 to answer instead of the refusal (its headers set on w), or the
// limiter's failure.
func (s *Server) authenticationFailed(w http.ResponseWriter, r *http.Request, address string) error {
	return s.failedAuthenticationsLeft(w, r, address, true)
}

// failedAuthenticationsLeft looks at the bucket of address, taking a
// token from it when spend is set.
func (s *Server) failedAuthenticationsLeft(w http.ResponseWriter, r *http.Request, address string, spend bool) error {
	policy, limited := s.failedAuthentications()
	if !limited {
		return nil
	}
	decide := s.Limiter.Peek
	if spend {
		decide = s.Limiter.Take
	}
	d, err := decide(r.Context(), ratelimit.AddressKey(address), policy, s.now())
	if err != nil || d.Allowed {
		return err
	}
	d.SetHeaders(w.Header())
	notesOf(r).rateLimited = "failedAuthentications"
	return exceeded(r, policy, d)
}
