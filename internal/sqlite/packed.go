package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/snapexport/snapexport/internal/sqlrow"
)

// packedRow reads a row's columns from the one column that holds them
// packed, a JSON array that SQLite's json_array made of them (see migration
// 0015), as a Scanner of the columns themselves would: the row scans of
// sqlrow read it unchanged. Strings are cut from the packed text, without a
// copy each, unless they hold an escape. One packedRow serves the rows of a
// page in turn (Of), so that it allocates nothing per row itself.
type packedRow struct {
	s      sqlrow.Scanner
	packed string
	dest   [1]any
}

// Of returns r as the Scanner of the packed row s.
func (r *packedRow) Of(s sqlrow.Scanner) sqlrow.Scanner {
	r.s = s
	return r
}

func (r *packedRow) Scan(dest ...any) error {
	r.dest[0] = &r.packed
	if err := r.s.Scan(r.dest[:]...); err != nil {
		return err
	}
	return scanPacked(r.packed, dest)
}

// scanPacked assigns the values of the JSON array packed to dest in order:
// to a *string, *int64, *int, *float64, *bool (from 0 or 1) or sql.Scanner
// (given a string, int64, float64 or nil), which are what the row scans of
// sqlrow pass.
func scanPacked(packed string, dest []any) error {
	rest, ok := strings.CutPrefix(packed, "[")
	if !ok {
		return errors.New("sqlite: packed row is no JSON array")
	}
	for i, d := range dest {
		if i > 0 {
			if rest, ok = strings.CutPrefix(rest, ","); !ok {
				return fmt.Errorf("sqlite: packed row has %d values, want %d", i, len(dest))
			}
		}
		var v packedValue
		var err error
		if v, rest, err = readPacked(rest); err == nil {
			err = v.assign(d)
		}
		if err != nil {
			return fmt.Errorf("sqlite: packed row value %d: %w", i, err)
		}
	}
	if rest != "]" {
		return fmt.Errorf("sqlite: packed row has more than %d values", len(dest))
	}
	return nil
}

// packedValue is one value of a packed row: what json_array makes of
// SQLite's values but blobs. It is not an any so that reading one
// allocates nothing.
type packedValue struct {
	kind packedKind
	text string
	n    int64
	f    float64
}

type packedKind uint8

const (
	packedNull packedKind = iota
	packedText
	packedInteger
	packedReal
)

// readPacked reads the JSON value at the start of s, a string, number or
// null, and returns it and what follows it.
func readPacked(s string) (v packedValue, rest string, err error) {
	switch {
	case strings.HasPrefix(s, `"`):
		end := strings.IndexByte(s[1:], '"') + 1
		if end == 0 {
			return v, "", errors.New("unterminated string")
		}
		if !strings.Contains(s[1:end], `\`) {
			return packedValue{kind: packedText, text: s[1:end]}, s[end+1:], nil
		}
		text, rest, err := unescape(s[1:])
		if err != nil {
			return v, "", err
		}
		return packedValue{kind: packedText, text: text}, rest, nil
	case strings.HasPrefix(s, "null"):
		return packedValue{kind: packedNull}, s[len("null"):], nil
	}
	end := strings.IndexAny(s, ",]")
	if end < 0 {
		return v, "", errors.New("unterminated number")
	}
	if n, err := strconv.ParseInt(s[:end], 10, 64); err == nil {
		return packedValue{kind: packedInteger, n: n}, s[end:], nil
	}
	f, err := strconv.ParseFloat(s[:end], 64)
	if err != nil {
		return v, "", fmt.Errorf("%q is no string, number or null", s[:end])
	}
	return packedValue{kind: packedReal, f: f}, s[end:], nil
}

// unescape reads the rest of a JSON string whose opening quote s follows,
// escapes and all, and returns its text and what follows its closing quote.
// Bytes that are not escapes are kept as they are, invalid UTF-8 included,
// as json_array copied them from the column.
func unescape(s string) (text, rest string, err error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return b.String(), s[i+1:], nil
		case c != '\\':
			b.WriteByte(c)
			continue
		case i+1 == len(s):
			return "", "", errors.New("unterminated string")
		}
		i++
		switch s[i] {
		case '"', '\\', '/':
			b.WriteByte(s[i])
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, n, err := escapedRune(s[i+1:])
			if err != nil {
				return "", "", err
			}
			b.WriteRune(r)
			i += n
		default:
			return "", "", fmt.Errorf("unknown escape \\%c", s[i])
		}
	}
	return "", "", errors.New("unterminated string")
}

// escapedRune reads the four hexadecimal digits of a \u escape at the start
// of s, and the low surrogate's escape after them when they are a high
// surrogate, and returns the rune and how many bytes it read.
func escapedRune(s string) (rune, int, error) {
	hex4 := func(s string) (rune, bool) {
		if len(s) < 4 {
			return 0, false
		}
		n, err := strconv.ParseUint(s[:4], 16, 16)
		return rune(n), err == nil
	}
	r, ok := hex4(s)
	if !ok {
		return 0, 0, errors.New(`bad \u escape`)
	}
	if utf16.IsSurrogate(r) && strings.HasPrefix(s[4:], `\u`) {
		if low, ok := hex4(s[6:]); ok {
			if pair := utf16.DecodeRune(r, low); pair != utf8.RuneError {
				return pair, 10, nil
			}
		}
	}
	return r, 4, nil
}

// any is the value as database/sql's drivers hand it to a sql.Scanner.
func (v packedValue) any() any {
	switch v.kind {
	case packedText:
		return v.text
	case packedInteger:
		return v.n
	case packedReal:
		return v.f
	}
	return nil
}

func (v packedValue) assign(dest any) error {
	switch d := dest.(type) {
	case *string:
		if v.kind == packedText {
			*d = v.text
			return nil
		}
	case *int64:
		if v.kind == packedInteger {
			*d = v.n
			return nil
		}
	case *int:
		if v.kind == packedInteger {
			*d = int(v.n)
			return nil
		}
	case *float64:
		switch v.kind {
		case packedReal:
			*d = v.f
			return nil
		case packedInteger:
			*d = float64(v.n)
			return nil
		}
	case *bool:
		if v.kind == packedInteger && (v.n == 0 || v.n == 1) {
			*d = v.n == 1
			return nil
		}
	case sql.Scanner:
		return d.Scan(v.any())
	default:
		return fmt.Errorf("cannot scan into %T", dest)
	}
	// The type alone: a column's value may be a secret's hash.
	return fmt.Errorf("cannot scan %T into %T", v.any(), dest)
}
