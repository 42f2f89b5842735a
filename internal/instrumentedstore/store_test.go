package instrumentedstore

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/snapexport/snapexport"
)

// TestFailed: the domain's answers are not failures of the store; any
// other error is, wrapped or not.
func TestFailed(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{snapexport.ErrNotFound, false},
		{fmt.Errorf("load: %w", snapexport.ErrNotFound), false},
		{snapexport.Errorf(snapexport.CodeResourceNotFound, "Cannot find resource %s.", "/x"), false},
		{snapexport.ErrLeaseHeld, false},
		{snapexport.ErrExportEnded, false},
		{snapexport.ErrExportCancelled, false},
		{context.Canceled, false},
		{errors.New("database is locked"), true},
		{fmt.Errorf("commit: %w", context.DeadlineExceeded), true},
	} {
		if got := Failed(tc.err); got != tc.want {
			t.Errorf("Failed(%v) = %t, want %t", tc.err, got, tc.want)
		}
	}
}
