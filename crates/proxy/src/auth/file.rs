//! `auth.toml`: reading it, writing it on a first start, and adding a person
//! to it without losing the operator's comments.

use std::collections::BTreeMap;
use std::path::Path;

use argon2::password_hash::PasswordHash;
use domain::api::Role;
use serde::{Deserialize, Serialize};

use super::name_key;

const HEADER: &str = "\
# Watchpost sign-in. Passcodes are kept only as Argon2 hashes.
# Roles: viewer, member, admin.
#
# [[passcodes]] are shared: each gives its role to whatever name is typed with it.
# [[people]] hold their own passcode, and their name is reserved: signing in
# under it (or a name that looks like it) needs that passcode. Add or change one
# with `watchpost person NAME --role ROLE`; a running Watchpost applies changes
# on SIGHUP or at its next start.

";

/// The file as written.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthFile {
    /// Shared passcodes: each hash (a PHC string) and the role it gives.
    #[serde(default)]
    pub passcodes: Vec<PasscodeEntry>,
    /// People with their own passcode.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<Person>,
    /// Before people had passcodes, `[names]` gave a typed name a role. It is
    /// read only to warn: a name alone proves nothing.
    #[serde(default, skip_serializing)]
    names: BTreeMap<String, Role>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasscodeEntry {
    pub role: Role,
    pub hash: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub name: String,
    pub role: Role,
    pub hash: String,
}

impl AuthFile {
    /// The file, or an empty one when there is none, and warnings for the operator.
    pub fn read(file: &Path) -> Result<(AuthFile, Vec<String>), String> {
        let config = match std::fs::read_to_string(file) {
            Ok(text) => toml::from_str::<AuthFile>(&text)
                .map_err(|err| format!("{}: {err}", file.display()))?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => AuthFile::default(),
            Err(err) => return Err(format!("cannot read {}: {err}", file.display())),
        };
        let hashes = config
            .passcodes
            .iter()
            .map(|entry| &entry.hash)
            .chain(config.people.iter().map(|person| &person.hash));
        for hash in hashes {
            PasswordHash::new(hash).map_err(|err| {
                format!(
                    "{}: a passcode hash is not a PHC string ({err}); make one with `watchpost hash-passcode`",
                    file.display()
                )
            })?;
        }
        let mut warnings = Vec::new();
        if !config.names.is_empty() {
            let listed: Vec<String> = config
                .names
                .iter()
                .map(|(name, role)| format!("{name} ({})", role.name()))
                .collect();
            warnings.push(format!(
                "{}: [names] no longer gives anyone a role, because a typed name proves nothing. \
                 Those names ({}) now get the role of the passcode they sign in with. Give each \
                 of them their own passcode with `watchpost person NAME --role ROLE`, then delete [names].",
                file.display(),
                listed.join(", ")
            ));
        }
        Ok((config, warnings))
    }

    /// Writes a new file, readable by its owner alone.
    pub fn write_new(&self, file: &Path) -> Result<(), String> {
        let body = toml::to_string(self).map_err(|err| err.to_string())?;
        write_private(file, &format!("{HEADER}{body}"))
    }
}

/// Adds `name` to `[[people]]` with `role` and `hash`, or changes the person
/// whose name looks the same. Everything else in the file, comments
/// included, stays as it is. Returns whether the person was new.
pub fn set_person(file: &Path, name: &str, role: Role, hash: &str) -> Result<bool, String> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => HEADER.to_owned(),
        Err(err) => return Err(format!("cannot read {}: {err}", file.display())),
    };
    let mut document: toml_edit::DocumentMut = text
        .parse()
        .map_err(|err| format!("{}: {err}", file.display()))?;
    // `people = []` is an array of tables to a reader, not to an editor.
    if document
        .get("people")
        .and_then(|item| item.as_array())
        .is_some_and(toml_edit::Array::is_empty)
    {
        document.remove("people");
    }
    let people = document
        .entry("people")
        .or_insert_with(|| toml_edit::ArrayOfTables::new().into())
        .as_array_of_tables_mut()
        .ok_or_else(|| format!("{}: `people` must be [[people]] tables", file.display()))?;
    let key = name_key(name);
    let existing = people.iter_mut().find(|person| {
        person
            .get("name")
            .and_then(|value| value.as_str())
            .is_some_and(|other| name_key(other) == key)
    });
    let new = existing.is_none();
    let person = match existing {
        Some(person) => person,
        None => {
            people.push(toml_edit::Table::new());
            people.iter_mut().last().ok_or("the new person vanished")?
        }
    };
    person["name"] = toml_edit::value(name);
    person["role"] = toml_edit::value(role.name());
    person["hash"] = toml_edit::value(hash);
    write_private(file, &document.to_string())?;
    Ok(new)
}

fn write_private(file: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    }
    write_owner_only(file, text).map_err(|err| format!("cannot write {}: {err}", file.display()))
}

#[cfg(unix)]
fn write_owner_only(file: &Path, text: &str) -> std::io::Result<()> {
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
fn write_owner_only(file: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(file, text)
}
