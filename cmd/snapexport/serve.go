package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/snapexport/snapexport/api"
	"github.com/snapexport/snapexport/ratelimit"
	"github.com/snapexport/snapexport/server"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	dataDir := fs.String("data", defaultDataDir, "data directory")
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on")
	publicURL := fs.String("public-url", "", "base URL of links in responses (default: from each request's Host)")
	backups := fs.String("rate-limit-cloud-backups", "1200:500/1m", "Cloud Backups token bucket per project, CAPACITY:REFILL/PERIOD")
	cpa := fs.String("rate-limit-cloud-provider-access", "2000:1000/1m", "Cloud Provider Access token bucket per project, CAPACITY:REFILL/PERIOD")
	noLimits := fs.Bool("no-rate-limit", false, "turn rate limiting off")
	drain := fs.Duration("shutdown-timeout", 30*time.Second, "how long to wait for in-flight requests on shutdown")
	if err := parse(fs, args); err != nil {
		return err
	}
	limits := api.Limits{Disabled: *noLimits}
	var err error
	if limits.CloudBackups, err = parsePolicy("rate-limit-cloud-backups", "Cloud Backups", *backups); err != nil {
		return err
	}
	if limits.CloudProviderAccess, err = parsePolicy("rate-limit-cloud-provider-access", "Cloud Provider Access", *cpa); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	srv, err := server.Open(ctx, server.Config{DataDir: *dataDir, PublicURL: *publicURL, Limits: limits, Logger: logger})
	if err != nil {
		return err
	}
	defer srv.Close()
	initialized, err := srv.Initialized(ctx)
	if err != nil {
		return err
	}
	if !initialized {
		b, err := srv.Service.Init(ctx, "snapexport", "default", srv.Hash)
		if err != nil {
			return fmt.Errorf("initialize %s: %w", *dataDir, err)
		}
		printCredentials(stdout, initOutput{
			OrgID: b.Org.ID, GroupID: b.Project.ID,
			APIKey:         apiKeyJSON{PublicKey: b.APIKey.PublicKey, PrivateKey: b.APIKey.PrivateKey},
			ServiceAccount: saCredsJSON{ClientID: b.ServiceAccount.ClientID, ClientSecret: b.ServiceAccount.ClientSecret},
		})
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	httpSrv := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()
	logger.Info("serving", "addr", ln.Addr().String(), "data", *dataDir, "rateLimits", !limits.Disabled)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// parsePolicy reads CAPACITY:REFILL/PERIOD, e.g. 1200:500/1m.
func parsePolicy(flagName, name, s string) (ratelimit.Policy, error) {
	bad := usageError{fmt.Sprintf("--%s=%q: want CAPACITY:REFILL/PERIOD, e.g. 1200:500/1m", flagName, s)}
	capStr, rest, ok1 := strings.Cut(s, ":")
	refillStr, periodStr, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 {
		return ratelimit.Policy{}, bad
	}
	capacity, err1 := strconv.Atoi(capStr)
	refill, err2 := strconv.Atoi(refillStr)
	period, err3 := time.ParseDuration(periodStr)
	p := ratelimit.Policy{Name: name, Capacity: capacity, Refill: refill, Period: period}
	if err1 != nil || err2 != nil || err3 != nil || p.Validate() != nil {
		return ratelimit.Policy{}, bad
	}
	return p, nil
}
