package api

import (
	"context"

	"github.com/snapexport/snapexport"
)

type callerKey struct{}

// AsCaller returns a context under which the Handler takes p as the
// caller of a request, with no credentials to check: for code in the same
// process that authenticated p itself (the console, whose sessions were
// signed in through this API). A client cannot set it: a context is never
// read from the wire.
func AsCaller(ctx context.Context, p *snapexport.Principal) context.Context {
	return context.WithValue(ctx, callerKey{}, p)
}

func callerOf(ctx context.Context) *snapexport.Principal {
	p, _ := ctx.Value(callerKey{}).(*snapexport.Principal)
	return p
}
