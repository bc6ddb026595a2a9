//! A project's live stream as Server-Sent Events: the stored entries after
//! the client's last one, then each new entry as it is appended.
//!
//! Where the time went with 1,000 streams (issue 19, `perf` on the release
//! build during the benchmark's writes): half of the proxy's CPU per delivery
//! was the kernel's TCP send on each stream's socket, which no code here can
//! share; most of the rest was each stream serializing the same entry,
//! building its own copy of the event, and handing it from a relay task
//! through a channel to the response body. So an entry is rendered once per
//! format and every stream sends the same bytes ([`Published`]), and each
//! response body reads the broadcast itself, with no task or channel between.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::Response;
use domain::binary::{encode, to_base64};
use domain::run::Entry;
use serde::Deserialize;
use tokio::sync::broadcast;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::sessions::StreamTicket;
use crate::store::{READ_PAGE, Store};

/// A comment line every this often keeps idle connections (and the reverse
/// proxies in front) from closing a quiet stream, and lets the proxy notice
/// a client that has gone.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamFormat {
    /// Each event's data is the entry as JSON.
    #[default]
    Json,
    /// Each event's data is the entry in the app's binary form, in base64.
    Binary,
}

/// An appended entry as the live streams send it: rendered at most once
/// per format, however many streams send it.
#[derive(Debug)]
pub struct Published {
    pub entry: Entry,
    frames: [OnceLock<Bytes>; 2],
}

impl Published {
    pub fn new(entry: Entry) -> Self {
        Published {
            entry,
            frames: Default::default(),
        }
    }

    fn frame(&self, format: StreamFormat) -> Bytes {
        self.frames[format as usize]
            .get_or_init(|| frame(&self.entry, format))
            .clone()
    }
}

/// One event: `id` is the entry id, so a reconnecting browser resumes with
/// `Last-Event-ID`. Neither format's data holds a line break.
fn frame(entry: &Entry, format: StreamFormat) -> Bytes {
    let data = match format {
        StreamFormat::Json => serde_json::to_string(entry).expect("an entry serializes"),
        StreamFormat::Binary => to_base64(&encode(entry)),
    };
    Bytes::from(format!("id: {}\nevent: entry\ndata: {data}\n\n", entry.id))
}

/// The stream's response. `live` must be subscribed before this reads the
/// backlog, so that nothing falls between the two. It ends when the
/// ticket's session ends (signed out, or `session_left` passes), when the broadcast closes,
/// or when the store cannot be read; a client that goes away drops it.
pub fn response(
    store: Store,
    project: i64,
    after: u64,
    live: broadcast::Receiver<Arc<Published>>,
    format: StreamFormat,
    ticket: StreamTicket,
    session_left: Duration,
) -> Response {
    let ended = ticket.ended.clone();
    let end = async move {
        tokio::select! {
            () = ended.cancelled() => {},
            () = tokio::time::sleep(session_left) => {},
        }
    };
    let relay = Relay {
        store,
        project,
        after,
        live,
        format,
        backlog: VecDeque::new(),
        replaying: true,
        keep_alive: keep_alive(),
        end: Box::pin(end),
        _ticket: ticket,
    };
    let body = futures_util::stream::unfold(relay, |mut relay| async move {
        let frame = relay.next().await?;
        Some((Ok::<_, Infallible>(frame), relay))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(body))
        .expect("static headers are valid")
}

fn keep_alive() -> Interval {
    let mut interval = tokio::time::interval_at(Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    interval
}

struct Relay {
    store: Store,
    project: i64,
    /// The last entry id sent: each entry goes out once, in order.
    after: u64,
    live: broadcast::Receiver<Arc<Published>>,
    format: StreamFormat,
    /// Frames of stored entries read but not yet sent.
    backlog: VecDeque<Bytes>,
    /// Reading stored entries: at the start, and after falling behind.
    replaying: bool,
    keep_alive: Interval,
    end: Pin<Box<dyn Future<Output = ()> + Send>>,
    /// Counts this stream against its session's and the server's limits.
    _ticket: StreamTicket,
}

impl Relay {
    async fn next(&mut self) -> Option<Bytes> {
        loop {
            if let Some(frame) = self.backlog.pop_front() {
                return Some(frame);
            }
            if self.replaying {
                self.read_page().await?;
                continue;
            }
            tokio::select! {
                biased;
                () = &mut self.end => return None,
                received = self.live.recv() => match received {
                    Ok(published) if published.entry.id > self.after => {
                        self.after = published.entry.id;
                        return Some(published.frame(self.format));
                    }
                    Ok(_) => {}
                    // Too slow to keep up: catch up from the store, then go on live.
                    Err(broadcast::error::RecvError::Lagged(_)) => self.replaying = true,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = self.keep_alive.tick() => return Some(Bytes::from_static(b":\n\n")),
            }
        }
    }

    /// Queues the next page of stored entries; `None` when the store fails.
    async fn read_page(&mut self) -> Option<()> {
        let page = match self
            .store
            .entries(self.project, self.after, READ_PAGE)
            .await
        {
            Ok(page) => page,
            Err(err) => {
                tracing::warn!(project = self.project, error = %err, "a live stream stopped");
                return None;
            }
        };
        self.replaying = page.len() == READ_PAGE as usize;
        for entry in &page {
            self.backlog.push_back(frame(entry, self.format));
            self.after = entry.id;
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use domain::run::Change;

    use super::*;

    fn note(id: u64) -> Entry {
        Entry {
            id,
            op_id: format!("op-{id}"),
            actor: "Ana".into(),
            at: "2026-12-07T03:00:00Z".into(),
            change: Change::Note {
                text: "all quiet".into(),
                item: None,
            },
        }
    }

    #[test]
    fn every_stream_sends_the_same_bytes_rendered_once_per_format() {
        let published = Published::new(note(7));
        let json = published.frame(StreamFormat::Json);
        assert_eq!(
            json.as_ptr(),
            published.frame(StreamFormat::Json).as_ptr(),
            "rendered once, shared"
        );
        let text = std::str::from_utf8(&json).expect("text");
        let data = serde_json::to_string(&published.entry).expect("json");
        assert_eq!(text, format!("id: 7\nevent: entry\ndata: {data}\n\n"));
        let binary = published.frame(StreamFormat::Binary);
        assert_eq!(
            binary,
            format!(
                "id: 7\nevent: entry\ndata: {}\n\n",
                to_base64(&encode(&published.entry))
            )
        );
    }

    /// On tokio's paused clock: nothing is appended for a minute.
    #[tokio::test]
    async fn a_quiet_stream_sends_a_comment_every_15_seconds_and_ends_with_its_session() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = Store::open(dir.path()).await.expect("store");
        let (sender, live) = broadcast::channel(4);
        tokio::time::pause();
        let started = Instant::now();
        let ticket = crate::sessions::Sessions::new(store.clone(), 1)
            .open_stream(b"session")
            .expect("a place");
        let (ended, ticket_ended) = (ticket.ended.clone(), ticket.ended.clone());
        let mut relay = Relay {
            store,
            project: 1,
            after: 0,
            live,
            format: StreamFormat::Json,
            backlog: VecDeque::new(),
            replaying: false,
            keep_alive: keep_alive(),
            end: Box::pin(async move { ended.cancelled().await }),
            _ticket: ticket,
        };
        for n in 1..=4 {
            let comment = tokio::time::timeout(KEEP_ALIVE * 2, relay.next()).await;
            assert_eq!(
                comment.expect("within 15 s").as_deref(),
                Some(&b":\n\n"[..])
            );
            // The paused clock jumps to the next timer, rounded to a millisecond.
            let elapsed = started.elapsed();
            assert!(
                elapsed >= KEEP_ALIVE * n && elapsed < KEEP_ALIVE * n + Duration::from_secs(1),
                "{elapsed:?}"
            );
        }
        for id in [3, 2, 4] {
            sender
                .send(Arc::new(Published::new(note(id))))
                .expect("a receiver");
        }
        assert!(
            relay
                .next()
                .await
                .expect("an entry")
                .starts_with(b"id: 3\n")
        );
        // Entry 2 is older than what it sent: skipped.
        assert!(
            relay
                .next()
                .await
                .expect("an entry")
                .starts_with(b"id: 4\n")
        );
        ticket_ended.cancel();
        assert_eq!(relay.next().await, None, "the session's end ends it");
    }
}
