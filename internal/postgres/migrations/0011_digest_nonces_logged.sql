-- Digest nonces are no longer stored when issued, only once they
-- authenticated a request, to refuse replays of it. Forgetting them in a
-- crash or a failover would let a response captured before be replayed
-- until its nonce expires, so they are written to the log and replicated
-- like the rest. The table holds only the nonces of authenticated requests
-- of the last minutes.
ALTER TABLE digest_nonces SET LOGGED;
