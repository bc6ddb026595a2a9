-- Sign-in attempts per client address and per name, shared by the replicas:
-- each bucket's theoretical arrival time (GCRA), in Unix milliseconds. An
-- attempt is taken when it is at most the burst ahead of now.
CREATE TABLE sign_in_buckets (
    key TEXT   PRIMARY KEY,
    tat BIGINT NOT NULL
);
