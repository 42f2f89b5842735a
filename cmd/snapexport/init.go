package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/snapexport/snapexport/internal/postgres"
	"github.com/snapexport/snapexport/internal/server"
	"github.com/snapexport/snapexport/internal/service"
)

const defaultDataDir = "./snapexport-data"

// initOutput is the JSON that `init --json` prints; scripts depend on it.
type initOutput struct {
	OrgID          string      `json:"orgId"`
	GroupID        string      `json:"groupId"`
	APIKey         apiKeyJSON  `json:"apiKey"`
	ServiceAccount saCredsJSON `json:"serviceAccount"`
}

type apiKeyJSON struct {
	PublicKey  string `json:"publicKey"`
	PrivateKey string `json:"privateKey"`
}

type saCredsJSON struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

func newInitOutput(b *service.Bootstrap) initOutput {
	return initOutput{
		OrgID: b.Org.ID, GroupID: b.Project.ID,
		APIKey:         apiKeyJSON{PublicKey: b.APIKey.PublicKey, PrivateKey: b.APIKey.PrivateKey},
		ServiceAccount: saCredsJSON{ClientID: b.ServiceAccount.ClientID, ClientSecret: b.ServiceAccount.ClientSecret},
	}
}

func runInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("init", stderr)
	dataDir := fs.String("data", defaultDataDir, "data directory, created when missing")
	db := databaseFlag(fs)
	asJSON := fs.Bool("json", false, "print the credentials as one JSON object")
	orgName := fs.String("org-name", "snapexport", "name of the organization")
	projectName := fs.String("project-name", "default", "name of the project")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := withDatabase(server.Config{DataDir: *dataDir}, database(*db, ""), postgres.Options{})
	if err != nil {
		return err
	}
	srv, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	b, err := srv.Init(ctx, *orgName, *projectName)
	if errors.Is(err, service.ErrAlreadyInitialized) {
		where := "data directory " + *dataDir
		if d := database(*db, ""); d != "" {
			where = "the database"
		}
		return fmt.Errorf("%s is already initialized; nothing was changed", where)
	}
	if err != nil {
		return fmt.Errorf("initialize %s: %w", *dataDir, err)
	}
	out := newInitOutput(b)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(out)
	}
	printCredentials(stdout, out)
	return nil
}

func printCredentials(w io.Writer, c initOutput) {
	fmt.Fprintf(w, `Initialized. These secrets are shown once; keep them safe.

  Organization ID:          %s
  Project (group) ID:       %s
  API key (digest auth):    public %s  private %s
  Service account (OAuth):  client id %s  client secret %s

`, c.OrgID, c.GroupID, c.APIKey.PublicKey, c.APIKey.PrivateKey, c.ServiceAccount.ClientID, c.ServiceAccount.ClientSecret)
}
