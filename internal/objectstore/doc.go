// Package objectstore reaches the customers' export buckets the way Atlas
// does: Amazon S3 buckets through an IAM role the server assumes, Azure Blob
// containers through the server's Entra ID application signed in to the
// role's tenant, and Google Cloud Storage buckets by impersonating the
// role's service account. Buckets are gocloud.dev/blob buckets, whose
// drivers here sit on the clouds' own SDKs (s3bucket.go, azurebucket.go,
// gcsbucket.go; fileblob for local folders), so streaming writes get
// multipart, block and resumable uploads from the libraries. The cloud
// drivers store each key as the object's name, byte for byte, as Atlas
// writes it, but for the few bytes a cloud cannot hold (cloudbucket.go):
// gocloud.dev's own drivers escape more, which other readers would see.
//
// # Modes
//
// Each provider has a Mode in Config: ModeCloud (the real service),
// ModeS3Compatible / ModeAzureCompatible / ModeGCSCompatible (an endpoint URL
// with static credentials: MinIO, Ceph, Azurite, fake-gcs-server, …) or
// ModeLocal (a directory). An empty Mode is local, so the zero Config plus a
// LocalDir works with no cloud at all.
//
// # Local buckets
//
// A local bucket is the directory LocalDir/<aws|azure|gcp>/<bucket>. It is
// created on first use, so that a server without any object-store
// configuration accepts every bucket, as a development server should.
// Config.LocalRequireExisting makes a missing directory a missing bucket
// (BUCKET_NOT_FOUND) instead. Objects are plain files; no metadata sidecar
// files are written. The region of a local S3 bucket is AWS.DefaultRegion.
// A key is stored at a path escaped segment by segment (localkeys.go), so
// that keys a file system would fold together ("a/./b", "a//b", "a/b")
// or refuse (names over 255 bytes) keep files of their own; ordinary keys
// are their own paths.
//
// # What the server does with it
//
//   - Authorizing a role: Stores.AssumeRole. AWS calls STS AssumeRole with the
//     role's iamAssumedRoleArn and atlasAssumedRoleExternalId (in cloud mode,
//     and in s3-compatible mode when AWS.STSEndpoint is set) and answers
//     400 CANNOT_ASSUME_ROLE when it is refused.
//   - Creating a bucket: Stores.Verify, which looks up the region (AWS
//     GetBucketLocation) and writes the empty object PermissionCheckKey; store
//     the bucket, with the region returned, only when it succeeds.
//   - Starting an export: Stores.CheckPermission again, then Stores.Open for
//     the writes.
//
// Temporary AWS credentials are cached per role and renewed
// AWS.RefreshWindow before they expire; impersonated GCP tokens likewise.
//
// # Builds without the SDKs
//
// The SDK code of the providers (aws.go, azure.go, gcp.go, sdk.go and the
// bucket drivers) is left out of a binary built with -tags
// snapexport_localbuckets (LocalBucketsTag): ModeLocal alone remains, New
// refuses every other mode, and the binary links none of the S3, Azure and
// Google Cloud SDKs. It is for test binaries whose buckets are local
// folders: a package split could not drop these SDKs, because the emulator
// modes a test server offers need the same drivers as cloud mode.
//
// # Errors
//
// Every failure of an operation is a *snapexport.Error: CANNOT_ASSUME_ROLE,
// CANNOT_AUTHENTICATE_SERVICE_PRINCIPAL, BUCKET_NOT_FOUND,
// BUCKET_ACCESS_DENIED, INVALID_AWS_CREDENTIALS / INVALID_AZURE_CREDENTIALS /
// INVALID_GOOGLE_CLOUD_CREDENTIALS, OBJECT_STORE_REQUEST_REFUSED (another
// 4xx, or a local file name the file system cannot take), which no retry
// fixes (the API answers them 400), or OBJECT_STORE_UNREACHABLE,
// OBJECT_STORE_ERROR and OBJECT_STORE_TIMEOUT, of kind unavailable (502,
// 502, 504). Failure maps the failures of an opened bucket's operations
// (an export's writes) the same way. Details name the bucket, the kind of
// store and the operation tried, and the store's HTTP status and error
// code; never a credential, a store's message, a URL's query string, the
// store's address (it may be an internal host) or a server directory. The
// underlying error and the address go to Config.Logger. Errors that are not
// *snapexport.Error (an unknown provider, an empty bucket name) are
// programming errors.
//
// # Time and retries
//
// Each operation (AssumeRole, BucketRegion, CheckPermission, Verify, and
// the role and region resolution of Open) runs within Config.Timeout,
// retries included; an HTTP attempt without response headers within the
// timeout fails. Transient faults (5xx, 408, 429 and throttling codes,
// dropped or reset connections, attempt timeouts) are retried by each SDK's
// own retryer — aws retry.Standard, azcore's retry policy, the storage
// client's retryer — configured from the one RetryPolicy: at most
// MaxAttempts attempts, full-jitter exponential backoff between BaseDelay
// and MaxDelay. Permanent faults (403, 404, refused credentials, other
// 4xx) fail at once.
package objectstore
