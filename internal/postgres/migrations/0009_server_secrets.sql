-- sqlite/migrations/0008_server_secrets.sql in PostgreSQL's types.
CREATE TABLE server_secrets (
	name  text PRIMARY KEY,
	value text NOT NULL
);
