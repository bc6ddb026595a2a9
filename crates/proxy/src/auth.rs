//! Who may use Watchpost: team passcodes (stored only as Argon2 hashes), the
//! role each passcode or name gives, sessions behind a signed cookie, and the
//! limit on sign-in attempts.
//!
//! A session token is 32 random bytes. The cookie carries the token and its
//! HMAC, so a forged cookie is refused without touching the store; the store
//! keeps only the token's SHA-256, so a copy of the database opens no session.

mod hashing;
mod limit;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::api::Role;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use self::limit::SignInLimiter;
use crate::secret::Secret;

pub const COOKIE_NAME: &str = "watchpost_session";

/// The sign-in configuration: `auth.toml` plus `WATCHPOST_TEAM_PASSCODE`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthFile {
    /// Each passcode's Argon2 hash (PHC string) and the role it gives.
    #[serde(default)]
    pub passcodes: Vec<PasscodeEntry>,
    /// Roles for particular display names, over the role of the passcode used.
    #[serde(default)]
    pub names: BTreeMap<String, Role>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasscodeEntry {
    pub role: Role,
    pub hash: String,
}

/// Passcodes made on the first start, shown once to whoever started the proxy.
#[derive(Debug)]
pub struct Generated {
    pub file: PathBuf,
    pub member: Secret,
    pub admin: Secret,
}

#[derive(Debug)]
pub struct Auth {
    passcodes: Vec<(String, Role)>,
    names: BTreeMap<String, Role>,
    key: Secret,
    pub session_length: Duration,
    pub limiter: SignInLimiter,
}

impl Auth {
    /// Reads `file`, adds `team_passcode` as a member passcode, and when no
    /// passcode is configured at all, makes a member and an admin passcode and
    /// writes their hashes to `file`.
    pub fn load(
        file: &Path,
        team_passcode: Option<&Secret>,
        key: Secret,
        session_length: Duration,
    ) -> Result<(Auth, Option<Generated>), String> {
        let mut config = match std::fs::read_to_string(file) {
            Ok(text) => toml::from_str::<AuthFile>(&text)
                .map_err(|err| format!("{}: {err}", file.display()))?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => AuthFile::default(),
            Err(err) => return Err(format!("cannot read {}: {err}", file.display())),
        };
        for entry in &config.passcodes {
            PasswordHash::new(&entry.hash).map_err(|err| {
                format!(
                    "{}: a passcode hash is not a PHC string ({err}); make one with `watchpost hash-passcode`",
                    file.display()
                )
            })?;
        }
        let mut generated = None;
        let mut passcodes: Vec<(String, Role)> = config
            .passcodes
            .iter()
            .map(|entry| (entry.hash.clone(), entry.role))
            .collect();
        if let Some(passcode) = team_passcode {
            passcodes.push((hash_passcode(passcode)?, Role::Member));
        }
        if passcodes.is_empty() {
            let member = new_passcode();
            let admin = new_passcode();
            for (passcode, role) in [(&member, Role::Member), (&admin, Role::Admin)] {
                config.passcodes.push(PasscodeEntry {
                    role,
                    hash: hash_passcode(passcode)?,
                });
            }
            write_auth_file(file, &config)?;
            passcodes = config
                .passcodes
                .iter()
                .map(|entry| (entry.hash.clone(), entry.role))
                .collect();
            generated = Some(Generated {
                file: file.to_owned(),
                member,
                admin,
            });
        }
        let names = config
            .names
            .into_iter()
            .map(|(name, role)| (name.trim().to_lowercase(), role))
            .collect();
        let auth = Auth {
            passcodes,
            names,
            key,
            session_length,
            limiter: SignInLimiter::default(),
        };
        Ok((auth, generated))
    }

    /// The role `passcode` gives `name`, or `None` when the passcode is wrong.
    /// Every hash is tried, so the time taken does not say which one matched.
    /// Slow on purpose; call it off the async workers.
    pub fn role_for(&self, name: &str, passcode: &str) -> Result<Option<Role>, String> {
        let (hashes, passcode) = (self.passcodes.clone(), passcode.to_owned());
        let matched = hashing::on_hashing_thread(move || {
            let mut matched = None;
            for (hash, role) in &hashes {
                let verified = hashing::verify(hash, passcode.as_bytes());
                if verified && matched.is_none_or(|best| *role > best) {
                    matched = Some(*role);
                }
            }
            matched
        })?;
        Ok(matched.map(|matched| {
            self.names
                .get(&name.trim().to_lowercase())
                .copied()
                .unwrap_or(matched)
        }))
    }

    /// A new session token and the cookie value that carries it.
    pub fn new_token(&self) -> (SessionToken, String) {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let cookie = format!("{token}.{}", self.sign(&token));
        (SessionToken(token), cookie)
    }

    /// The token inside a cookie value, if the cookie was made by this proxy.
    pub fn verify_cookie(&self, cookie: &str) -> Option<SessionToken> {
        let (token, signature) = cookie.split_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = self.mac();
        mac.update(token.as_bytes());
        mac.verify_slice(&signature).ok()?;
        Some(SessionToken(token.to_owned()))
    }

    fn sign(&self, token: &str) -> String {
        let mut mac = self.mac();
        mac.update(token.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        Hmac::<Sha256>::new_from_slice(self.key.expose().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
    }
}

/// A session token as the cookie carries it. Only its digest is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    pub fn digest(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
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
fn new_passcode() -> Secret {
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

/// A fresh random key for signing session cookies.
pub fn new_key() -> Secret {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    Secret::new(URL_SAFE_NO_PAD.encode(bytes))
}

fn write_auth_file(file: &Path, config: &AuthFile) -> Result<(), String> {
    let body = toml::to_string(config).map_err(|err| err.to_string())?;
    let text = format!(
        "# Watchpost sign-in. Passcodes are kept only as Argon2 hashes: make one with\n\
         # `watchpost hash-passcode`. Roles: viewer, member, admin.\n\
         # [names] gives a display name its own role, whatever passcode it signs in with:\n\
         # names are typed, not proven, so it trusts everyone who has a passcode.\n\
         #\n\
         # [names]\n\
         # \"Dana\" = \"admin\"\n\n{body}"
    );
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    }
    write_private(file, &text).map_err(|err| format!("cannot write {}: {err}", file.display()))
}

#[cfg(unix)]
fn write_private(file: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(file)?
        .write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(file: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(file, text)
}

#[cfg(test)]
mod tests {
    fn role(auth: &Auth, name: &str, passcode: &str) -> Option<Role> {
        auth.role_for(name, passcode)
            .expect("the hashing thread runs")
    }

    use super::*;

    fn auth(dir: &Path, team: Option<&str>) -> (Auth, Option<Generated>) {
        Auth::load(
            &dir.join("auth.toml"),
            team.map(Secret::new).as_ref(),
            Secret::new("k"),
            Duration::from_secs(60),
        )
        .unwrap()
    }

    #[test]
    fn a_first_start_makes_passcodes_and_keeps_only_their_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let (first, generated) = auth(dir.path(), None);
        let generated = generated.expect("passcodes made");
        let file = std::fs::read_to_string(dir.path().join("auth.toml")).unwrap();
        assert!(!file.contains(generated.member.expose()));
        assert!(!file.contains(generated.admin.expose()));
        assert!(file.contains("$argon2id$"));
        assert_eq!(
            role(&first, "Ana", generated.member.expose()),
            Some(Role::Member)
        );
        assert_eq!(
            role(&first, "Ana", generated.admin.expose()),
            Some(Role::Admin)
        );
        assert_eq!(role(&first, "Ana", "guess"), None);

        let (second, again) = auth(dir.path(), None);
        assert!(
            again.is_none(),
            "the second start keeps the first passcodes"
        );
        assert_eq!(
            role(&second, "Ben", generated.member.expose()),
            Some(Role::Member)
        );
    }

    #[test]
    fn names_override_the_passcode_role() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("auth.toml"),
            format!(
                "[[passcodes]]\nrole = \"viewer\"\nhash = \"{}\"\n[names]\n\"Dana\" = \"admin\"\n",
                hash_passcode(&Secret::new("look")).unwrap()
            ),
        )
        .unwrap();
        let (auth, generated) = auth(dir.path(), Some("team"));
        assert!(generated.is_none());
        assert_eq!(role(&auth, "Ana", "look"), Some(Role::Viewer));
        assert_eq!(role(&auth, "Ana", "team"), Some(Role::Member));
        assert_eq!(role(&auth, " dana ", "look"), Some(Role::Admin));
        assert_eq!(role(&auth, "Dana", "wrong"), None);
    }

    #[test]
    fn a_bad_auth_file_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("auth.toml");
        std::fs::write(&file, "[[passcodes]]\nrole = \"boss\"\nhash = \"x\"\n").unwrap();
        let err = Auth::load(&file, None, Secret::new("k"), Duration::from_secs(1)).unwrap_err();
        assert!(err.contains("auth.toml"), "{err}");
    }

    #[test]
    fn only_cookies_this_proxy_signed_are_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let (auth, _) = auth(dir.path(), Some("team"));
        let (token, cookie) = auth.new_token();
        assert_eq!(auth.verify_cookie(&cookie), Some(token));
        let (token_part, _) = cookie.split_once('.').unwrap();
        assert_eq!(auth.verify_cookie(&format!("{token_part}.AAAA")), None);
        assert_eq!(auth.verify_cookie(token_part), None);
        let (other, _) = Auth::load(
            &dir.path().join("other.toml"),
            Some(&Secret::new("team")),
            Secret::new("another key"),
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(other.verify_cookie(&cookie), None);
    }

    #[test]
    fn generated_passcodes_are_readable_and_differ() {
        let a = new_passcode();
        assert_eq!(a.expose().len(), 19);
        assert!(
            a.expose()
                .chars()
                .all(|c| c == '-' || c.is_ascii_alphanumeric())
        );
        assert_ne!(a, new_passcode());
    }
}
