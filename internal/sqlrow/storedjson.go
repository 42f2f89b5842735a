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
// as the domain types keep empty lists.
func loadList[T any](text string, list *[]T) error {
	if err := json.Unmarshal([]byte(text), list); err != nil {
		return err
	}
	if len(*list) == 0 {
		*list = nil
	}
	return nil
}
