//! Backups of Watchpost's own store: taken during a burst of writes, put
//! back only while no server runs, and refused when they are not one.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::Server;
use reqwest::StatusCode;
use serde_json::json;
use tempfile::TempDir;
use watchpost_proxy::clock::Clock;
use watchpost_proxy::runs::Runs;
use watchpost_proxy::store::Store;
use watchpost_proxy::store::copy::{self, DataDirLock};

fn store_bytes(dir: &std::path::Path) -> Vec<u8> {
    std::fs::read(dir.join("watchpost.db")).expect("the store is there")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_a_burst_of_writes_holds_every_write_acknowledged_before_it() {
    let server = Server::start().await;
    let project = server.project("Voxanne").await;
    let ana = server.member("Ana").await;
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let (client, acknowledged, done) = (ana.clone(), acknowledged.clone(), done.clone());
            tokio::spawn(async move {
                for n in 0.. {
                    if done.load(Ordering::Relaxed) {
                        break;
                    }
                    let op_id = format!("w{writer}-{n}");
                    let note = json!({ "text": format!("note {n} of writer {writer}") });
                    let (status, _) = client.append(project, &op_id, "note", note).await;
                    assert_eq!(status, StatusCode::CREATED);
                    acknowledged.lock().expect("lock").push(op_id);
                }
            })
        })
        .collect();
    // Writes are under way before the backup begins, and go on during it.
    while acknowledged.lock().expect("lock").len() < 40 {
        tokio::task::yield_now().await;
    }
    let before: HashSet<String> = acknowledged.lock().expect("lock").iter().cloned().collect();
    let backups = TempDir::new().expect("dir");
    let path = backups.path().join("watchpost-backup.db");
    let copied = copy::backup(server.data.path(), &path)
        .await
        .expect("a backup while the server writes");
    done.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("every write was stored");
    }
    let data = server.stop().await;
    assert!(copied.entries >= before.len() as i64, "{copied:?}");

    // Put back into a new data directory, it folds, and holds them all.
    let restored_dir = TempDir::new().expect("dir");
    let restored = copy::restore(restored_dir.path(), &path, &Clock::default())
        .await
        .expect("the backup restores");
    assert_eq!(restored.store.entries, copied.entries);
    assert!(restored.kept.is_none());
    let store = Store::open(restored_dir.path()).await.expect("it opens");
    let entries = store
        .entries(project, 0, u32::MAX)
        .await
        .expect("its log reads");
    let present: HashSet<&str> = entries.iter().map(|entry| entry.op_id.as_str()).collect();
    let missing: Vec<_> = before
        .iter()
        .filter(|op| !present.contains(op.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not in the backup: {missing:?}"
    );
    let state = Runs::new(store.clone())
        .fold(project)
        .await
        .expect("the restored log folds");
    assert!(
        state.notes.len() >= before.len(),
        "{} notes",
        state.notes.len()
    );
    drop(data);
}

#[tokio::test]
async fn a_restore_refuses_while_a_server_uses_the_data_directory_and_changes_nothing() {
    let server = Server::start().await;
    server.project("Voxanne").await;
    let backups = TempDir::new().expect("dir");
    let path = backups.path().join("copy.db");
    copy::backup(server.data.path(), &path)
        .await
        .expect("a backup");
    let before = store_bytes(server.data.path());

    let refused = copy::restore(server.data.path(), &path, &Clock::default())
        .await
        .expect_err("refused while the server runs");
    assert!(refused.contains("a Watchpost server is using"), "{refused}");
    assert!(refused.contains("stop it first"), "{refused}");
    assert_eq!(store_bytes(server.data.path()), before);

    // A second server on the same directory is refused the same way.
    let data = server.stop().await;
    let _held = DataDirLock::take(data.path()).expect("free once the server stopped");
    assert!(DataDirLock::take(data.path()).is_err());
}

#[tokio::test]
async fn what_is_not_a_backup_is_refused_and_the_store_stays_as_it_was() {
    let server = Server::start().await;
    server.project("Voxanne").await;
    let data = server.stop().await;
    let before = store_bytes(data.path());
    let others = TempDir::new().expect("dir");

    let text = others.path().join("notes.txt");
    std::fs::write(&text, "not a database at all").expect("written");
    let empty = others.path().join("empty.db");
    sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", empty.display()))
        .await
        .expect("an empty SQLite database")
        .close()
        .await;
    for (path, words) in [
        (others.path().join("missing.db"), "there is no file"),
        (text, "is not a Watchpost store a backup made"),
        (empty, "is not a Watchpost store a backup made"),
    ] {
        let refused = copy::restore(data.path(), &path, &Clock::default())
            .await
            .expect_err("refused");
        assert!(refused.contains(words), "{}: {refused}", path.display());
        assert_eq!(store_bytes(data.path()), before, "{}", path.display());
    }

    // A backup never overwrites a file, and needs a store to copy.
    let existing = others.path().join("existing.db");
    std::fs::write(&existing, "keep me").expect("written");
    let refused = copy::backup(data.path(), &existing)
        .await
        .expect_err("refused");
    assert!(refused.contains("already exists"), "{refused}");
    assert_eq!(std::fs::read_to_string(&existing).expect("kept"), "keep me");
    let nothing = TempDir::new().expect("dir");
    let refused = copy::backup(nothing.path(), &others.path().join("x.db"))
        .await
        .expect_err("refused");
    assert!(refused.contains("there is no Watchpost store"), "{refused}");
}

#[tokio::test]
async fn a_restore_keeps_the_store_it_replaces_beside_it() {
    let first = Server::start().await;
    let project = first.project("Voxanne").await;
    let backups = TempDir::new().expect("dir");
    let path = backups.path().join("copy.db");
    copy::backup(first.data.path(), &path)
        .await
        .expect("a backup");
    // A change after the backup: the restore takes the store back before it.
    let ana = first.member("Ana").await;
    let (status, _) = ana
        .append(
            project,
            "after",
            "note",
            json!({ "text": "after the backup" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let data = first.stop().await;

    let restored = copy::restore(data.path(), &path, &Clock::default())
        .await
        .expect("restored");
    let kept = restored.kept.expect("the replaced store is kept");
    assert!(kept.is_file(), "{}", kept.display());
    let store = Store::open(data.path()).await.expect("opens");
    assert!(
        store
            .entries(project, 0, u32::MAX)
            .await
            .expect("reads")
            .is_empty()
    );
    store.close().await;

    // The server starts over the restored store.
    let again = Server::start_in(data).await;
    let ana = again.member("Ana").await;
    let log = ana.get(&format!("/api/projects/{project}/log")).await;
    assert_eq!(log.status(), StatusCode::OK);
}
