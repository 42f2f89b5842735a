package snapshotstore

// SetAfterCaptureRead makes f run between Capture's read of a cluster's
// data and its write of the snapshot's manifest, and returns the undoing.
func SetAfterCaptureRead(f func()) func() {
	afterCaptureRead = f
	return func() { afterCaptureRead = nil }
}
