-- Secrets the server makes itself and every replica sharing the database
-- uses, by name (base64): the key that signs access tokens. Kept in clear,
-- as the server must use them: protect the database and its backups.
CREATE TABLE server_secrets (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
