package sqlrow

import (
	"encoding/json"
	"fmt"
)

// storedJSON is the JSON text the stores keep for a list ("[]" when it is
// empty) or another value. The lists and values kept are of structs of
// strings and integers, which always encode: a failure is a field that
// JSON cannot represent added to one of them, a programming error.
func storedJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sqlrow: %T has no JSON form: %v", v, err))
	}
	return string(b)
}

// storedList is storedJSON of a list: "[]" when it is empty.
func storedList[T any](list []T) string {
	if len(list) == 0 {
		return "[]"
	}
	return storedJSON(list)
}

// loadList reads back what storedList wrote; an empty list reads as nil,
// as the domain types keep empty lists. An error names the list: the
// field of the kind of item with the id.
func loadList[T any](text string, list *[]T, kind, id, field string) error {
	if err := loadJSON(text, list, kind, id, field); err != nil {
		return err
	}
	if len(*list) == 0 {
		*list = nil
	}
	return nil
}

// loadJSON reads back what storedJSON wrote into v.
func loadJSON(text string, v any, kind, id, field string) error {
	if err := json.Unmarshal([]byte(text), v); err != nil {
		return fmt.Errorf("%s %s %s: %w", kind, id, field, err)
	}
	return nil
}
