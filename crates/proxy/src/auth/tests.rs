use super::*;

fn load(dir: &Path, team: Option<&str>) -> Loaded {
    Auth::load(
        &dir.join("auth.toml"),
        team.map(Secret::new).as_ref(),
        Duration::from_secs(60),
    )
    .unwrap()
}

fn role(auth: &Auth, name: &str, passcode: &str) -> Option<Role> {
    match auth
        .verify(name, passcode)
        .expect("the hashing thread runs")
    {
        Verdict::In(signed_in) => Some(signed_in.role),
        Verdict::WrongPasscode | Verdict::Reserved => None,
    }
}

fn hash(passcode: &str) -> String {
    hash_passcode(&Secret::new(passcode)).unwrap()
}

/// A viewer passcode with hash `viewer` and Dana, with her own passcode of
/// hash `dana` and `role`, then `extra`.
fn write_file(dir: &Path, viewer: &str, dana: (Role, &str), extra: &str) -> PathBuf {
    let file = dir.join("auth.toml");
    std::fs::write(
        &file,
        format!(
            "# the team's own comment\n[[passcodes]]\nrole = \"viewer\"\nhash = \"{viewer}\"\n\n\
             [[people]]\nname = \"Dana\"\nrole = \"{}\"\nhash = \"{}\"\n{extra}",
            dana.0.name(),
            dana.1
        ),
    )
    .unwrap();
    file
}

/// A viewer passcode `look`, and Dana, an admin with her own passcode `dana-own`.
fn file_with_dana(dir: &Path, extra: &str) -> PathBuf {
    write_file(dir, &hash("look"), (Role::Admin, &hash("dana-own")), extra)
}

#[test]
fn a_first_start_makes_passcodes_and_keeps_only_their_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let first = load(dir.path(), None);
    let generated = first.generated.expect("passcodes made");
    let file = std::fs::read_to_string(dir.path().join("auth.toml")).unwrap();
    assert!(!file.contains(generated.member.expose()));
    assert!(!file.contains(generated.admin.expose()));
    assert!(file.contains("$argon2id$"));
    let auth = first.auth;
    assert_eq!(
        role(&auth, "Ana", generated.member.expose()),
        Some(Role::Member)
    );
    assert_eq!(
        role(&auth, "Ana", generated.admin.expose()),
        Some(Role::Admin)
    );
    assert_eq!(role(&auth, "Ana", "guess"), None);

    let second = load(dir.path(), None);
    assert!(
        second.generated.is_none(),
        "the second start keeps the first passcodes"
    );
    assert_eq!(
        role(&second.auth, "Ben", generated.member.expose()),
        Some(Role::Member)
    );
}

#[test]
fn a_reserved_name_needs_its_own_passcode_whatever_its_spelling() {
    let dir = tempfile::tempdir().unwrap();
    file_with_dana(dir.path(), "");
    let auth = load(dir.path(), Some("team")).auth;
    assert_eq!(role(&auth, "Ana", "look"), Some(Role::Viewer));
    assert_eq!(role(&auth, "Ana", "team"), Some(Role::Member));
    for dana in ["Dana", "dana", " DANA ", "d\u{0430}na", "ｄａｎａ"] {
        for shared in ["look", "team"] {
            assert_eq!(
                auth.verify(dana, shared).unwrap(),
                Verdict::Reserved,
                "{dana:?} with a shared passcode"
            );
        }
        match auth.verify(dana, "dana-own").unwrap() {
            Verdict::In(signed_in) => {
                assert_eq!(signed_in.role, Role::Admin);
                assert_eq!(signed_in.name, "Dana", "the file's spelling is shown");
            }
            other => panic!("{dana:?}: {other:?}"),
        }
    }
    assert_eq!(
        auth.verify("Ana", "dana-own").unwrap(),
        Verdict::WrongPasscode,
        "a person's passcode is theirs alone"
    );
}

#[test]
fn names_no_longer_give_roles_and_the_operator_is_told_what_to_change() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("auth.toml");
    std::fs::write(
        &file,
        format!(
            "[[passcodes]]\nrole = \"viewer\"\nhash = \"{}\"\n[names]\n\"boss\" = \"admin\"\n",
            hash("look")
        ),
    )
    .unwrap();
    let loaded = load(dir.path(), None);
    assert_eq!(role(&loaded.auth, "boss", "look"), Some(Role::Viewer));
    let [warning] = loaded.warnings.as_slice() else {
        panic!("{:?}", loaded.warnings)
    };
    assert!(warning.contains("[names]"), "{warning}");
    assert!(warning.contains("boss (admin)"), "{warning}");
    assert!(warning.contains("watchpost person"), "{warning}");
}

#[test]
fn a_reload_changes_roles_and_ends_grants_that_are_gone() {
    let dir = tempfile::tempdir().unwrap();
    let dana_hash = hash("dana-own");
    write_file(dir.path(), &hash("look"), (Role::Admin, &dana_hash), "");
    let auth = load(dir.path(), None).auth;
    let Verdict::In(dana) = auth.verify("Dana", "dana-own").unwrap() else {
        panic!("Dana signs in")
    };
    let Verdict::In(ana) = auth.verify("Ana", "look").unwrap() else {
        panic!("Ana signs in")
    };
    assert!(auth.recall("dana", "dana-own").is_some());

    // Dana becomes a member; the viewer passcode is replaced.
    write_file(
        dir.path(),
        &hash("new look"),
        (Role::Member, &dana_hash),
        "",
    );
    auth.reload().unwrap();

    assert_eq!(auth.role_of(&dana.source), Some(Role::Member));
    assert_eq!(auth.role_of(&ana.source), None, "the old passcode is gone");
    assert_eq!(
        auth.recall("Dana", "dana-own"),
        None,
        "a reload forgets earlier checks"
    );
    assert_eq!(role(&auth, "Dana", "dana-own"), Some(Role::Member));
    assert_eq!(role(&auth, "Ana", "look"), None);
    assert_eq!(role(&auth, "Ana", "new look"), Some(Role::Viewer));
}

#[test]
fn a_bad_reload_keeps_the_configuration_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let file = file_with_dana(dir.path(), "");
    let auth = load(dir.path(), None).auth;
    std::fs::write(&file, "[[people]]\nname = \"x\"\n").unwrap();
    let err = auth.reload().unwrap_err();
    assert!(err.contains("auth.toml"), "{err}");
    assert_eq!(role(&auth, "Dana", "dana-own"), Some(Role::Admin));
}

#[test]
fn people_whose_names_look_the_same_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    file_with_dana(
        dir.path(),
        &format!(
            "\n[[people]]\nname = \"DANA\"\nrole = \"viewer\"\nhash = \"{}\"\n",
            hash("x")
        ),
    );
    let err = Auth::load(&dir.path().join("auth.toml"), None, Duration::from_secs(1)).unwrap_err();
    assert!(err.contains("look the same"), "{err}");
}

#[test]
fn setting_a_person_keeps_the_rest_of_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = file_with_dana(dir.path(), "");
    assert!(set_person(&file, "Ben", Role::Member, &hash("ben-own")).unwrap());
    assert!(!set_person(&file, "DANA", Role::Viewer, &hash("dana-new")).unwrap());
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("# the team's own comment"), "{text}");
    assert_eq!(text.matches("[[people]]").count(), 2, "{text}");
    let auth = load(dir.path(), None).auth;
    assert_eq!(role(&auth, "ben", "ben-own"), Some(Role::Member));
    assert_eq!(role(&auth, "Dana", "dana-new"), Some(Role::Viewer));
    assert_eq!(role(&auth, "Dana", "dana-own"), None);
}

#[test]
fn a_bad_auth_file_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("auth.toml");
    std::fs::write(&file, "[[passcodes]]\nrole = \"boss\"\nhash = \"x\"\n").unwrap();
    let err = Auth::load(&file, None, Duration::from_secs(1)).unwrap_err();
    assert!(err.contains("auth.toml"), "{err}");
}

#[test]
fn session_tokens_are_random_and_only_well_formed_cookies_are_tokens() {
    let token = SessionToken::new();
    assert_ne!(token, SessionToken::new());
    assert_eq!(SessionToken::from_cookie(token.expose()), Some(token));
    assert_eq!(SessionToken::from_cookie("short"), None);
    assert_eq!(
        SessionToken::from_cookie(&format!("{}.", "a".repeat(42))),
        None
    );
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

#[test]
fn a_name_reserved_later_ends_the_sessions_others_opened_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let dana_hash = hash("dana-own");
    let file = write_file(dir.path(), &hash("look"), (Role::Admin, &dana_hash), "");
    let auth = load(dir.path(), None).auth;
    let Verdict::In(shared) = auth.verify("Ben", "look").unwrap() else {
        panic!("Ben signs in")
    };
    assert_eq!(
        auth.role_of_session("Ben", &shared.source),
        Some(Role::Viewer)
    );
    set_person(&file, "ben", Role::Member, &hash("ben-own")).unwrap();
    auth.reload().unwrap();
    assert_eq!(auth.role_of_session("Ben", &shared.source), None);
    assert_eq!(
        auth.role_of_session("Ana", &shared.source),
        Some(Role::Viewer)
    );
}

#[test]
fn passcodes_from_the_environment_give_member_and_admin_and_write_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = Auth::load_with(
        &dir.path().join("auth.toml"),
        Some(&Secret::new("team-from-env")),
        Some(&Secret::new("admin-from-env")),
        Duration::from_secs(60),
    )
    .unwrap();
    assert!(loaded.generated.is_none(), "nothing is made");
    assert!(
        !dir.path().join("auth.toml").exists(),
        "a replica without a disk writes nothing"
    );
    let auth = loaded.auth;
    assert_eq!(role(&auth, "Ana", "team-from-env"), Some(Role::Member));
    assert_eq!(role(&auth, "Dana", "admin-from-env"), Some(Role::Admin));
    assert_eq!(role(&auth, "Dana", "admin-from-en"), None);
}
