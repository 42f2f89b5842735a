package capture

import (
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// FerretDB does not enforce roles, so the refusal of a read is checked on
// the error the driver gives for MongoDB's answer.
func TestClassifyNamesTheRefusedDatabase(t *testing.T) {
	refused := mongo.CommandError{Code: codeUnauthorized, Name: "Unauthorized",
		Message: "not authorized on sales to execute command { listCollections: 1 }"}
	err := classify("listing the collections of database sales", "pw-123", refused)
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("classify(Unauthorized) = %v, want ErrUnauthorized", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "database sales: not authorized") {
		t.Errorf("error %q does not say which database was refused", msg)
	}
}

func TestClassifyTakesThePasswordOut(t *testing.T) {
	failed := mongo.CommandError{Code: codeAuthenticationFailed, Name: "AuthenticationFailed",
		Message: "Authentication failed for p@ss/word and p%40ss%2Fword"}
	err := classify("connecting to mongodb://u@h/", "p@ss/word", failed)
	if !errors.Is(err, ErrAuthentication) {
		t.Fatalf("classify(AuthenticationFailed) = %v, want ErrAuthentication", err)
	}
	if msg := err.Error(); strings.Contains(msg, "p@ss/word") || strings.Contains(msg, "p%40ss%2Fword") {
		t.Errorf("error %q shows the password", msg)
	}
}
