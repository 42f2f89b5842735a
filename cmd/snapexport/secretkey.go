package main

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/snapexport/snapexport/internal/newfile"
	"github.com/snapexport/snapexport/internal/service"
)

// secretKeyFileName is the file init writes the server's secret key to in
// the data directory.
const secretKeyFileName = "secret.key"

// secretKeyEnv holds the secret key itself, in base64.
const secretKeyEnv = "SNAPEXPORT_SECRET_KEY"

// secretKeyFlag adds --secret-key-file to a command that opens the store.
func secretKeyFlag(fs *flag.FlagSet) *string {
	return fs.String("secret-key-file", "", "`file` holding the server's secret key, 32 bytes in base64 (default $"+secretKeyEnv+", else DIR/"+secretKeyFileName+")")
}

// secretKey is the server's secret key: from the file the flag names,
// else $SNAPEXPORT_SECRET_KEY, else the file the configuration file names,
// else DIR/secret.key when it exists; nil when there is none.
func secretKey(flagFile, fileFile, dataDir string) ([]byte, error) {
	switch {
	case flagFile != "":
		return readSecretKey(flagFile)
	case os.Getenv(secretKeyEnv) != "":
		key, err := decodeSecretKey(os.Getenv(secretKeyEnv))
		if err != nil {
			return nil, fmt.Errorf("$%s: %w", secretKeyEnv, err)
		}
		return key, nil
	case fileFile != "":
		return readSecretKey(fileFile)
	}
	key, err := readSecretKey(filepath.Join(dataDir, secretKeyFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return key, err
}

func readSecretKey(path string) ([]byte, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	key, err := decodeSecretKey(string(text))
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return key, nil
}

// decodeSecretKey reads a key written in base64; its error never shows
// the text.
func decodeSecretKey(text string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil || len(key) != service.SecretKeySize {
		return nil, fmt.Errorf("want the base64 of %d bytes (make one with: head -c %d /dev/urandom | base64)", service.SecretKeySize, service.SecretKeySize)
	}
	return key, nil
}

// dataDirSecretKey is the key of DIR/secret.key, made and written there,
// owner only, when the file is missing; created tells whether it was. A
// key already there, written by an init or serve running at the same
// time, is never replaced: the file appears whole, once, and synced before
// the database records the key's check, as a file lost or left empty by a
// crash would leave a database no key opens.
func dataDirSecretKey(dataDir string) (key []byte, created bool, err error) {
	_, key = service.NewRandomSecretKey()
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, err
	}
	path := filepath.Join(dataDir, secretKeyFileName)
	created, err = newfile.Create(path, func(f *os.File) error {
		_, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("write the secret key %s: %w", path, err)
	}
	if !created {
		key, err = readSecretKey(path)
	}
	return key, created, err
}
