//! A fake of the team's own service: its health endpoint (the seeds' JSON:
//! `status`, `services`, `timestamp`, `uptime`) and its backup status URL
//! (the newest row of seed 002's `backup_verification_log`).

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::{Value, json};
use url::Url;

#[derive(Debug)]
pub struct ServiceState {
    pub healthy: bool,
    /// Seconds since the service started.
    pub uptime: u64,
    /// What the backup status URL answers.
    pub backup: Value,
}

#[derive(Debug, Clone)]
pub struct FakeService {
    pub health: Url,
    pub backup: Url,
    /// The frontend's page.
    pub page: Url,
    pub state: Arc<Mutex<ServiceState>>,
}

/// A verification row as seed 002's job writes it.
pub fn backup_row(verified_at: &str, status: &str) -> Value {
    json!({
        "verified_at": verified_at, "backup_id": "bk-2026-11-22", "backup_age_hours": 2.5,
        "backup_size_mb": 812.4, "status": status, "checks_passed": 6, "checks_failed": 0,
        "error_details": null, "verification_details": { "tables": 42 }
    })
}

impl FakeService {
    pub async fn start(backup: Value) -> Self {
        Self::start_with(backup, crate::Latency::default()).await
    }

    pub async fn start_with(backup: Value, latency: crate::Latency) -> Self {
        let state = Arc::new(Mutex::new(ServiceState {
            healthy: true,
            uptime: 3600,
            backup,
        }));
        let app = Router::new()
            .route("/health", get(health))
            .route("/api/backup/status", get(backup_status))
            // The frontend's page, as a browser would load it.
            .route(
                "/",
                get(|| async { axum::response::Html("<!doctype html><title>Voxanne</title>") }),
            )
            .with_state(state.clone());
        let base = crate::serve_on_loopback(latency.delay(app)).await;
        FakeService {
            health: base.join("health").expect("a URL"),
            backup: base.join("api/backup/status").expect("a URL"),
            page: base.clone(),
            state,
        }
    }

    pub fn set_healthy(&self, healthy: bool) {
        crate::lock(&self.state).healthy = healthy;
    }

    /// The service starts again: its uptime falls back to a few seconds.
    pub fn restart(&self) {
        crate::lock(&self.state).uptime = 5;
    }
}

async fn health(State(state): State<Arc<Mutex<ServiceState>>>) -> axum::Json<Value> {
    let state = crate::lock(&state);
    let up = state.healthy;
    axum::Json(json!({
        "status": if up { "ok" } else { "degraded" },
        "services": { "database": up, "supabase": true, "backgroundJobs": true, "vapi": true },
        "timestamp": "2026-11-22T12:00:00Z",
        "uptime": state.uptime
    }))
}

async fn backup_status(State(state): State<Arc<Mutex<ServiceState>>>) -> axum::Json<Value> {
    axum::Json(crate::lock(&state).backup.clone())
}
