package service

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/snapexport/snapexport"
)

// SecretKeySize is the size of the server's secret key: AES-256's.
const SecretKeySize = 32

// ErrSecretKeyMismatch is the start-up failure of a server given another
// key than the database's: what it sealed could not be opened.
var ErrSecretKeyMismatch = errors.New("the secret key does not match the one this database was initialized with")

// ErrNoSecretKey refuses what needs the secret key when none was given.
var ErrNoSecretKey = errors.New("no secret key: give --secret-key-file FILE or $SNAPEXPORT_SECRET_KEY, or keep the secret.key that init wrote in the data directory")

// sealVersion starts every sealed value, so that values sealed another way
// later can be told apart.
const sealVersion = 1

// secretKeyCheckName is the server secret holding the key check: an HMAC
// of a constant under the key, which tells whether a key is the
// database's without revealing it.
const secretKeyCheckName = "secret-key-check"

// SecretKey seals the secrets the service keeps (the connection strings of
// deployments) with AES-256-GCM: a random nonce per value, and the id of
// the item the value belongs to as additional data, so that a value moved
// to another item does not open.
type SecretKey struct {
	aead  cipher.AEAD
	check []byte
}

// NewSecretKey makes the key of SecretKeySize bytes.
func NewSecretKey(key []byte) (*SecretKey, error) {
	if len(key) != SecretKeySize {
		return nil, fmt.Errorf("the secret key is %d bytes long, want %d", len(key), SecretKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("snapexport secret key check"))
	return &SecretKey{aead: aead, check: mac.Sum(nil)}, nil
}

// NewRandomSecretKey makes a new key, returned with its bytes.
func NewRandomSecretKey() (*SecretKey, []byte) {
	key := make([]byte, SecretKeySize)
	rand.Read(key)
	k, _ := NewSecretKey(key)
	return k, key
}

// Seal seals value for the item with id.
func (k *SecretKey) Seal(id string, value []byte) []byte {
	nonce := make([]byte, k.aead.NonceSize())
	rand.Read(nonce)
	out := append([]byte{sealVersion}, nonce...)
	return k.aead.Seal(out, nonce, value, []byte(id))
}

// Open opens what Seal sealed for the item with id; it fails for a value
// sealed with another key or for another item, or changed since.
func (k *SecretKey) Open(id string, sealed []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return nil, fmt.Errorf("the sealed secret of %s is not one this server seals", id)
	}
	value, err := k.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(id))
	if err != nil {
		return nil, fmt.Errorf("the sealed secret of %s does not open with this server's secret key: it was sealed with another key or for another item", id)
	}
	return value, nil
}

// UseSecretKey makes k the service's secret key once it is the database's:
// the key check stored in the database is compared with k's, and k's is
// stored when the database has none yet (a new database, or one
// initialized before secret keys were kept). ErrSecretKeyMismatch when
// they differ; the service's key is then left as it was, so nothing is
// ever sealed with a key the database refuses.
func (s *Service) UseSecretKey(ctx context.Context, k *SecretKey) error {
	var stored []byte
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error {
		var err error
		stored, err = tx.ServerSecret(ctx, secretKeyCheckName, k.check)
		return err
	})
	if err != nil {
		return fmt.Errorf("check the secret key: %w", err)
	}
	if !hmac.Equal(stored, k.check) {
		return ErrSecretKeyMismatch
	}
	s.secretKey.Store(k)
	return nil
}

// sealing is the service's secret key; ErrNoSecretKey when it has none.
func (s *Service) sealing() (*SecretKey, error) {
	k := s.secretKey.Load()
	if k == nil {
		return nil, ErrNoSecretKey
	}
	return k, nil
}
