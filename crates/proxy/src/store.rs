//! The embedded SQLite store under the data directory.

use std::path::Path;
use std::time::Duration;

use domain::api::Project;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const FILE_NAME: &str = "watchpost.db";

#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating when needed) the store in `data_dir` and brings its schema up to date.
    pub async fn open(data_dir: &Path) -> Result<Self, sqlx::Error> {
        std::fs::create_dir_all(data_dir)?;
        let options = SqliteConnectOptions::new()
            .filename(data_dir.join(FILE_NAME))
            .create_if_missing(true)
            // WAL lets readers proceed during a write; NORMAL keeps every committed
            // write across a crash of the process (only power loss can cost the last ones).
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!().run(&pool).await?;
        Ok(Store { pool })
    }

    /// Whether the store answers a query, for the health endpoint.
    pub async fn ping(&self) -> bool {
        let query = sqlx::query("SELECT 1").execute(&self.pool);
        matches!(
            tokio::time::timeout(Duration::from_secs(2), query).await,
            Ok(Ok(_))
        )
    }

    /// Closes every connection; later queries fail. Used at shutdown.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn projects(&self) -> Result<Vec<Project>, sqlx::Error> {
        sqlx::query_as::<_, (i64, String, bool)>(
            "SELECT id, name, archived FROM projects ORDER BY archived, id",
        )
        .fetch_all(&self.pool)
        .await
        .map(|rows| rows.into_iter().map(project).collect())
    }

    pub async fn project(&self, id: i64) -> Result<Option<Project>, sqlx::Error> {
        sqlx::query_as::<_, (i64, String, bool)>(
            "SELECT id, name, archived FROM projects WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map(|row| row.map(project))
    }

    pub async fn create_project(&self, name: &str) -> Result<Project, sqlx::Error> {
        let now = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default();
        let id = sqlx::query("INSERT INTO projects (name, created_at) VALUES (?, ?)")
            .bind(name)
            .bind(now)
            .execute(&self.pool)
            .await?
            .last_insert_rowid();
        Ok(Project {
            id,
            name: name.to_owned(),
            archived: false,
        })
    }
}

fn project((id, name, archived): (i64, String, bool)) -> Project {
    Project { id, name, archived }
}
