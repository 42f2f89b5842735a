package ratelimit_test

import (
	"testing"

	"github.com/snapexport/snapexport/internal/ratelimit"
	"github.com/snapexport/snapexport/internal/ratelimit/limitertest"
)

func TestMemoryLimiter(t *testing.T) {
	limitertest.Run(t, func(*testing.T) ratelimit.Limiter { return ratelimit.NewMemory() })
}
