package snapexport

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

// TestEveryCodeHasAKind reads the Code constants of error.go: a code left
// out of the catalogue would be answered as an internal error.
func TestEveryCodeHasAKind(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "error.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			v := spec.(*ast.ValueSpec)
			for i, name := range v.Names {
				if !strings.HasPrefix(name.Name, "Code") {
					continue
				}
				lit, ok := v.Values[i].(*ast.BasicLit)
				if !ok {
					t.Errorf("%s is not a string literal", name.Name)
					continue
				}
				code, _ := strconv.Unquote(lit.Value)
				declared++
				if _, ok := catalogue[code]; !ok {
					t.Errorf("%s (%s) has no kind in the catalogue", name.Name, code)
				}
			}
		}
	}
	if declared != len(catalogue) {
		t.Errorf("%d codes declared, %d in the catalogue", declared, len(catalogue))
	}
}

func TestErrorfTakesTheKindOfItsCode(t *testing.T) {
	for code, kind := range map[string]ErrorKind{
		CodeExportBucketNotFound:    KindNotFound,
		CodeInvalidAttribute:        KindInvalid,
		CodeExportAlreadyInProgress: KindConflict,
		CodeNotInGroup:              KindUnauthorized,
		CodeRateLimitedTokenBucket:  KindRateLimited,
		CodeObjectStoreTimeout:      KindUnavailable,
		CodeUnexpectedError:         KindInternal,
	} {
		e := Errorf(code, "No export Bucket with ID %s does not exist.", "abc")
		if e.Kind != kind || e.Code != code || e.Detail != "No export Bucket with ID abc does not exist." || len(e.Params) != 1 {
			t.Errorf("Errorf(%s) = %+v, want kind %s", code, e, kind)
		}
	}
	if e := Errorf("NOT_A_CODE", "x"); e.Kind != KindInternal {
		t.Errorf("an unknown code has kind %q, want internal", e.Kind)
	}
}

func TestPermanent(t *testing.T) {
	for kind, want := range map[ErrorKind]bool{
		KindInvalid: true, KindNotFound: true, KindConflict: true, KindUnauthorized: true,
		KindRateLimited: false, KindUnavailable: false, KindInternal: false,
	} {
		if got := (&Error{Kind: kind}).Permanent(); got != want {
			t.Errorf("%s: Permanent() = %v, want %v", kind, got, want)
		}
	}
}

func TestAsErrorHidesUnknownErrors(t *testing.T) {
	e := AsError(errors.New("password=hunter2"))
	if e.Code != CodeUnexpectedError || e.Kind != KindInternal || strings.Contains(e.Detail, "hunter2") {
		t.Errorf("AsError = %+v", e)
	}
	wrapped := fmt.Errorf("reading: %w", Errorf(CodeClusterNotFound, "No cluster named %s exists in group %s.", "c", "g"))
	if e := AsError(wrapped); e.Code != CodeClusterNotFound || ErrorCode(wrapped) != CodeClusterNotFound {
		t.Errorf("AsError(wrapped) = %+v", e)
	}
}
