package unescapedjson

import "testing"

func TestMarshal(t *testing.T) {
	got, err := Marshal(map[string]string{"href": "https://host/a?b=1&c=<d>"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"href":"https://host/a?b=1&c=<d>"}`; string(got) != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
}
