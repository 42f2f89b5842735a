package sqlrow

import "encoding/json"

// storedList is the JSON text the stores keep for a list: "[]" when it is
// empty.
func storedList[T any](list []T) (string, error) {
	if len(list) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(list)
	return string(b), err
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
