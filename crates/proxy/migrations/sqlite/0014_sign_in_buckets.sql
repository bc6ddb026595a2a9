-- Sign-in attempts per client address and per name, shared by replicas on
-- PostgreSQL (numbered as its migration is). One SQLite process keeps its
-- limits in memory and leaves this table empty.
CREATE TABLE sign_in_buckets (
    key TEXT    PRIMARY KEY,
    tat INTEGER NOT NULL
);
