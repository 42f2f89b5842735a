package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"

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
	// SecretKeyFile is the file init wrote the server's secret key to;
	// empty when the key was given.
	SecretKeyFile string `json:"secretKeyFile,omitempty"`
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
	keyFile := secretKeyFlag(fs)
	asJSON := fs.Bool("json", false, "print the credentials as one JSON object")
	orgName := fs.String("org-name", "snapexport", "name of the organization")
	projectName := fs.String("project-name", "default", "name of the project")
	if err := parse(fs, args); err != nil {
		return err
	}
	key, err := secretKey(*keyFile, "", *dataDir)
	if err != nil {
		return err
	}
	cfg, err := withDatabase(server.Config{DataDir: *dataDir, SecretKey: key}, database(*db, ""), postgres.Options{})
	if err != nil {
		return err
	}
	srv, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	alreadyInitialized := func() error {
		where := "data directory " + *dataDir
		if d := database(*db, ""); d != "" {
			where = "the database"
		}
		return fmt.Errorf("%s is already initialized; nothing was changed", where)
	}
	var keyWritten string
	if key == nil {
		if initialized, err := srv.Initialized(ctx); err != nil {
			return err
		} else if initialized {
			return alreadyInitialized()
		}
		if keyWritten, err = newSecretKey(ctx, srv, *dataDir); err != nil {
			return err
		}
	}
	b, err := srv.Init(ctx, *orgName, *projectName)
	if errors.Is(err, service.ErrAlreadyInitialized) {
		return alreadyInitialized()
	}
	if err != nil {
		return fmt.Errorf("initialize %s: %w", *dataDir, err)
	}
	out := newInitOutput(b)
	out.SecretKeyFile = keyWritten
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
	if c.SecretKeyFile != "" {
		fmt.Fprintf(w, `  The server's secret key, which seals the connection strings of the
  deployments clusters are bound to, is in %s: back it up
  apart from the database; every replica needs the same one.

`, c.SecretKeyFile)
	}
}

// newSecretKey gives srv, for a database about to be initialized, the
// key of the data directory, written there when missing: the file it
// wrote, if it did.
func newSecretKey(ctx context.Context, srv *server.Server, dataDir string) (string, error) {
	key, created, err := dataDirSecretKey(dataDir)
	if err != nil {
		return "", err
	}
	if err := srv.UseSecretKey(ctx, key); err != nil {
		return "", err
	}
	if !created {
		return "", nil
	}
	return filepath.Join(dataDir, secretKeyFileName), nil
}
