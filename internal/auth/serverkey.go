package auth

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"

	"github.com/snapexport/snapexport"
)

// serverKeys holds the server secrets once read from the store, by name.
type serverKeys struct {
	mu   sync.Mutex
	keys map[string][]byte
}

// serverKey is the 32-byte (or longer) key kept under name, shared by
// every replica through the store: the first one to need a key stores it.
func (a *Authenticator) serverKey(ctx context.Context, name string) ([]byte, error) {
	a.keys.mu.Lock()
	defer a.keys.mu.Unlock()
	if key, ok := a.keys.keys[name]; ok {
		return key, nil
	}
	candidate := make([]byte, 32)
	rand.Read(candidate)
	var key []byte
	err := a.Store.Write(ctx, func(tx snapexport.Tx) error {
		var err error
		key, err = tx.ServerSecret(ctx, name, candidate)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("the stored server secret %q is shorter than 32 bytes", name)
	}
	if a.keys.keys == nil {
		a.keys.keys = map[string][]byte{}
	}
	a.keys.keys[name] = key
	return key, nil
}
