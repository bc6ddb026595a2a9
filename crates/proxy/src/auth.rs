//! Who may use Watchpost: shared passcodes and people with their own, stored
//! only as Argon2 hashes in `auth.toml`; what role each gives; session tokens;
//! and the limits on sign-in attempts.
//!
//! A role comes from a passcode, never from a typed name. A shared passcode
//! gives its role to whatever name is typed with it; a person's own passcode
//! reserves their name, so signing in under it (or a look-alike of it, see
//! [`name_key`]) needs that passcode. Every session remembers the grant it
//! came from (`Grant::source`), so when the file changes the session follows:
//! see `sessions.rs`.
//!
//! A session token is 32 random bytes, opaque; the store keeps only its
//! SHA-256, so a copy of the database opens no session.

mod file;
mod hashing;
mod limit;
mod names;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use argon2::password_hash::SaltString;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::api::Role;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub use self::file::{AuthFile, PasscodeEntry, Person, set_person};
pub use self::limit::{Limited, SignInLimits};
pub use self::names::name_key;
use crate::lock;
use crate::secret::Secret;

pub const COOKIE_NAME: &str = "watchpost_session";

/// The sources of sessions signed in with `WATCHPOST_TEAM_PASSCODE` and
/// `WATCHPOST_ADMIN_PASSCODE`, whose hashes are made anew at each start.
const TEAM_SOURCE: &str = "team";
const ADMIN_SOURCE: &str = "admin";

/// Passcodes made on the first start, shown once to whoever started the proxy.
#[derive(Debug)]
pub struct Generated {
    pub file: PathBuf,
    pub member: Secret,
    pub admin: Secret,
}

/// What a configuration gives: a role, from a named source that sessions
/// remember.
#[derive(Debug, Clone)]
struct Grant {
    /// `team`, `admin`, `passcode:<digest>` or `person:<name key>:<digest>`; the digest
    /// is of the hash, so a changed passcode is a different source.
    source: String,
    hash: String,
    role: Role,
}

/// The sign-in configuration in force: `auth.toml` plus the team passcode.
#[derive(Debug, Default)]
struct Credentials {
    shared: Vec<Grant>,
    /// By name key; the display name as the file spells it.
    people: HashMap<String, (String, Grant)>,
}

impl Credentials {
    fn role_of(&self, source: &str) -> Option<Role> {
        self.shared
            .iter()
            .chain(self.people.values().map(|(_, grant)| grant))
            .find(|grant| grant.source == source)
            .map(|grant| grant.role)
    }
}

/// Who a passcode check let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// The name to show: a person's as `auth.toml` spells it, else as typed.
    pub name: String,
    pub role: Role,
    pub source: String,
}

/// The outcome of a sign-in attempt's passcode check.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    In(SignedIn),
    WrongPasscode,
    /// The name belongs to a person, and this is not their passcode.
    Reserved,
}

#[derive(Debug)]
pub struct Auth {
    file: PathBuf,
    /// The passcodes given by the environment (team, admin).
    team: Vec<Grant>,
    credentials: RwLock<Arc<Credentials>>,
    /// HMACs of name and passcode pairs that passed a check since the last
    /// (re)load, under a key that lives only in memory: a person signing in
    /// again skips Argon2, and so the queue a flood of guesses builds.
    verified: Mutex<HashMap<[u8; 32], String>>,
    verified_key: [u8; 32],
    pub session_length: Duration,
    pub limits: SignInLimits,
}

/// A loaded configuration, and what the operator should hear about it.
#[derive(Debug)]
pub struct Loaded {
    pub auth: Auth,
    pub generated: Option<Generated>,
    pub warnings: Vec<String>,
}

impl Auth {
    /// Reads `file`, adds `team_passcode` as a member passcode, and when no
    /// passcode is configured at all, makes a member and an admin passcode and
    /// writes their hashes to `file`.
    pub fn load(
        file: &Path,
        team_passcode: Option<&Secret>,
        session_length: Duration,
    ) -> Result<Loaded, String> {
        Self::load_with(file, team_passcode, None, session_length)
    }

    /// [`Auth::load`], with an admin passcode from the environment too: what
    /// replicas without a disk of their own share (`WATCHPOST_ADMIN_PASSCODE`).
    pub fn load_with(
        file: &Path,
        team_passcode: Option<&Secret>,
        admin_passcode: Option<&Secret>,
        session_length: Duration,
    ) -> Result<Loaded, String> {
        let mut team = Vec::new();
        for (passcode, source, role) in [
            (team_passcode, TEAM_SOURCE, Role::Member),
            (admin_passcode, ADMIN_SOURCE, Role::Admin),
        ] {
            if let Some(passcode) = passcode {
                team.push(Grant {
                    source: source.to_owned(),
                    hash: hash_passcode(passcode)?,
                    role,
                });
            }
        }
        let (mut config, mut warnings) = AuthFile::read(file)?;
        let mut generated = None;
        if team.is_empty() && config.passcodes.is_empty() && config.people.is_empty() {
            let member = new_passcode();
            let admin = new_passcode();
            for (passcode, role) in [(&member, Role::Member), (&admin, Role::Admin)] {
                config.passcodes.push(PasscodeEntry {
                    role,
                    hash: hash_passcode(passcode)?,
                });
            }
            config.write_new(file)?;
            generated = Some(Generated {
                file: file.to_owned(),
                member,
                admin,
            });
        }
        let credentials = credentials(&config, &team, file, &mut warnings)?;
        let mut verified_key = [0u8; 32];
        OsRng.fill_bytes(&mut verified_key);
        let auth = Auth {
            file: file.to_owned(),
            team,
            credentials: RwLock::new(Arc::new(credentials)),
            verified: Mutex::default(),
            verified_key,
            session_length,
            limits: SignInLimits::default(),
        };
        Ok(Loaded {
            auth,
            generated,
            warnings,
        })
    }

    /// Reads the file again. On an error the configuration in force stays.
    /// Returns the warnings, as [`Auth::load`] does.
    pub fn reload(&self) -> Result<Vec<String>, String> {
        let (config, mut warnings) = AuthFile::read(&self.file)?;
        let credentials = credentials(&config, &self.team, &self.file, &mut warnings)?;
        *self
            .credentials
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(credentials);
        lock(&self.verified).clear();
        Ok(warnings)
    }

    fn credentials(&self) -> Arc<Credentials> {
        self.credentials
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The role a session that came from `source` has now; `None` when that
    /// grant is gone (the person or passcode was removed or changed).
    pub fn role_of(&self, source: &str) -> Option<Role> {
        self.credentials().role_of(source)
    }

    /// The role the session of `name`, signed in through `source`, has now;
    /// `None` when its grant is gone, or when `name` has since been reserved
    /// for a person and the session is not theirs.
    pub fn role_of_session(&self, name: &str, source: &str) -> Option<Role> {
        let credentials = self.credentials();
        match credentials.people.get(&name_key(name)) {
            Some((_, grant)) if grant.source != source => None,
            _ => credentials.role_of(source),
        }
    }

    /// A sign-in that passed before with the same name and passcode, if its
    /// grant still stands: answered without Argon2.
    pub fn recall(&self, name: &str, passcode: &str) -> Option<SignedIn> {
        let tag = self.tag(name, passcode);
        let source = lock(&self.verified).get(&tag).cloned()?;
        let credentials = self.credentials();
        let role = credentials.role_of(&source)?;
        let name = match credentials.people.get(&name_key(name)) {
            Some((person, grant)) if grant.source == source => person.clone(),
            Some(_) => return None,
            None => name.to_owned(),
        };
        Some(SignedIn { name, role, source })
    }

    /// Checks `passcode` for `name`. A reserved name is checked against its
    /// person's passcode alone; any other name against every shared passcode
    /// (all of them, so the time taken does not say which one matched).
    /// Slow on purpose; call it off the async workers.
    pub fn verify(&self, name: &str, passcode: &str) -> Result<Verdict, String> {
        let credentials = self.credentials();
        let (person, candidates) = match credentials.people.get(&name_key(name)) {
            Some((person, grant)) => (Some(person.clone()), vec![grant.clone()]),
            None => (None, credentials.shared.clone()),
        };
        let secret = passcode.to_owned();
        let matched = hashing::on_hashing_thread(move || {
            let mut matched: Option<Grant> = None;
            for grant in candidates {
                let verified = hashing::verify(&grant.hash, secret.as_bytes());
                if verified && matched.as_ref().is_none_or(|best| grant.role > best.role) {
                    matched = Some(grant);
                }
            }
            matched
        })?;
        let verdict = match (matched, person) {
            (Some(grant), person) => {
                let signed_in = SignedIn {
                    name: person.unwrap_or_else(|| name.to_owned()),
                    role: grant.role,
                    source: grant.source,
                };
                let mut verified = lock(&self.verified);
                // A bound, not an eviction policy: a team has few people.
                if verified.len() >= 1024 {
                    verified.clear();
                }
                verified.insert(self.tag(name, passcode), signed_in.source.clone());
                Verdict::In(signed_in)
            }
            (None, Some(_)) => Verdict::Reserved,
            (None, None) => Verdict::WrongPasscode,
        };
        Ok(verdict)
    }

    fn tag(&self, name: &str, passcode: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.verified_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(name_key(name).as_bytes());
        mac.update(&[0]);
        mac.update(passcode.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// The grants `config` and the passcodes from the environment make, checked.
fn credentials(
    config: &AuthFile,
    team: &[Grant],
    file: &Path,
    warnings: &mut Vec<String>,
) -> Result<Credentials, String> {
    let problem = |what: String| format!("{}: {what}", file.display());
    let mut shared: Vec<Grant> = config
        .passcodes
        .iter()
        .map(|entry| Grant {
            source: format!("passcode:{}", digest(&entry.hash)),
            hash: entry.hash.clone(),
            role: entry.role,
        })
        .collect();
    shared.extend(team.iter().cloned());
    let mut people = HashMap::new();
    for person in &config.people {
        let name = domain::api::validated_display_name(&person.name)
            .map_err(|why| problem(format!("the person “{}”: {why}", person.name)))?;
        let key = name_key(&name);
        let grant = Grant {
            source: format!("person:{key}:{}", digest(&person.hash)),
            hash: person.hash.clone(),
            role: person.role,
        };
        if let Some((earlier, _)) = people.insert(key, (name.clone(), grant)) {
            return Err(problem(format!(
                "the people “{earlier}” and “{name}” have names that look the same; keep one"
            )));
        }
    }
    if shared.is_empty() && people.is_empty() {
        warnings.push(problem(
            "no passcode is configured, so nobody can sign in; add one with `watchpost person`"
                .to_owned(),
        ));
    }
    Ok(Credentials { shared, people })
}

fn digest(text: &str) -> String {
    Sha256::digest(text.as_bytes())[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A session token as the cookie carries it. Only its digest is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// 32 fresh random bytes.
    pub fn new() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        SessionToken(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A token as a cookie carries it; anything else is no token.
    pub fn from_cookie(value: &str) -> Option<Self> {
        let well_formed = value.len() == 43
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| SessionToken(value.to_owned()))
    }

    /// What the cookie carries.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn digest(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }
}

impl Default for SessionToken {
    fn default() -> Self {
        SessionToken::new()
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken([redacted])")
    }
}

/// An Argon2id PHC string for `passcode`, as `auth.toml` stores it.
pub fn hash_passcode(passcode: &Secret) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    let passcode = passcode.clone();
    hashing::on_hashing_thread(move || hashing::hash(passcode.expose().as_bytes(), &salt))?
        .map_err(|err| format!("cannot hash a passcode: {err}"))
}

/// 16 characters people can read aloud: no 0/O, 1/l/I. About 79 bits.
pub fn new_passcode() -> Secret {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    let groups: Vec<String> = chars.chunks(4).map(|c| c.iter().collect()).collect();
    Secret::new(groups.join("-"))
}

#[cfg(test)]
mod tests;
