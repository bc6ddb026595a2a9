-- Each session remembers the grant it came from (a shared passcode, the team
-- passcode or a person), so a change to auth.toml can change its role or end
-- it. Sessions from before this have none and end at the next start.
ALTER TABLE sessions ADD COLUMN source TEXT;
