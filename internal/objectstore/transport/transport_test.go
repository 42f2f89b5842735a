package transport

import "testing"

func TestClassify(t *testing.T) {
	for status, want := range map[int]Answer{
		0: NoError, 200: NoError, 304: NoError,
		400: Refused, 409: Refused, 412: Refused,
		401: BadCredentials, 403: Denied, 404: NotFound,
		408: Transient, 429: Transient, 500: Transient, 501: Transient, 503: Transient,
	} {
		got := Classify(status)
		if got != want {
			t.Errorf("Classify(%d) = %d, want %d", status, got, want)
		}
		if permanent := status >= 400 && status < 500 && status != 408 && status != 429; got.Permanent() != permanent {
			t.Errorf("Classify(%d).Permanent() = %v, want %v", status, got.Permanent(), permanent)
		}
	}
	if !NotImplemented(501) || NotImplemented(500) {
		t.Error("NotImplemented must hold for 501 only")
	}
}
