//! Sessions while they are in use: the live streams each one holds open, the
//! caps on them, and ending a session everywhere at once (sign-out, or a
//! change to `auth.toml` that takes its grant away).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use crate::auth::Auth;
use crate::error::Error;
use crate::lock;
use crate::store::Store;

/// Live streams one session may hold: a person with many tabs, not a flood.
pub const STREAMS_PER_SESSION: usize = 20;

#[derive(Debug, Clone)]
pub struct Sessions {
    store: Store,
    max_streams: usize,
    live: Arc<Mutex<Live>>,
    /// Cancelled when the server stops, ending every stream.
    stopping: CancellationToken,
}

#[derive(Debug, Default)]
struct Live {
    by_session: HashMap<Vec<u8>, (CancellationToken, usize)>,
    streams: usize,
}

/// A stream's place under the caps; it is given back when the stream ends.
#[derive(Debug)]
pub struct StreamTicket {
    digest: Vec<u8>,
    live: Arc<Mutex<Live>>,
    /// Cancelled when the session ends.
    pub ended: CancellationToken,
}

impl Sessions {
    /// `max_streams` live streams for the whole server.
    pub fn new(store: Store, max_streams: usize) -> Self {
        Sessions {
            store,
            max_streams,
            live: Arc::default(),
            stopping: CancellationToken::new(),
        }
    }

    /// A place for one more live stream of the session `digest`, unless that
    /// session or the server holds as many as they may.
    pub fn open_stream(&self, digest: &[u8]) -> Result<StreamTicket, Error> {
        let mut live = lock(&self.live);
        if live.streams >= self.max_streams {
            return Err(Error::TooManyStreams(format!(
                "Watchpost is serving as many live streams as it may ({}); try again in a minute",
                self.max_streams
            )));
        }
        let (ended, count) = live
            .by_session
            .entry(digest.to_vec())
            .or_insert_with(|| (self.stopping.child_token(), 0));
        if *count >= STREAMS_PER_SESSION {
            return Err(Error::TooManyStreams(format!(
                "this session already has {STREAMS_PER_SESSION} live streams open; close some tabs of Watchpost"
            )));
        }
        *count += 1;
        let ended = ended.clone();
        live.streams += 1;
        Ok(StreamTicket {
            digest: digest.to_vec(),
            live: self.live.clone(),
            ended,
        })
    }

    /// Ends every live stream, as the server stops.
    pub fn close_all(&self) {
        self.stopping.cancel();
    }

    /// Live streams open now, for the whole server.
    pub fn streams(&self) -> usize {
        lock(&self.live).streams
    }

    /// Ends the session `digest`: in the store, and its open streams at once.
    pub async fn end(&self, digest: &[u8]) -> Result<(), sqlx::Error> {
        self.store.delete_session(digest).await?;
        self.close_streams(digest);
        Ok(())
    }

    fn close_streams(&self, digest: &[u8]) {
        if let Some((ended, _)) = lock(&self.live).by_session.get(digest) {
            ended.cancel();
        }
    }

    /// Brings every stored session in line with `auth`: the role its grant
    /// gives now, or the end of it when the grant is gone. Returns how many
    /// changed and how many ended.
    pub async fn reconcile(&self, auth: &Auth) -> Result<(usize, usize), sqlx::Error> {
        let (mut changed, mut ended) = (0, 0);
        for (digest, name, source, role) in self.store.session_grants().await? {
            match auth.role_of_session(&name, &source) {
                None => {
                    self.end(&digest).await?;
                    ended += 1;
                }
                Some(now) if Some(now) != role => {
                    self.store.set_session_role(&digest, now).await?;
                    changed += 1;
                }
                Some(_) => {}
            }
        }
        Ok((changed, ended))
    }
}

impl Drop for StreamTicket {
    fn drop(&mut self) {
        let mut live = lock(&self.live);
        live.streams -= 1;
        if let Some((_, count)) = live.by_session.get_mut(&self.digest) {
            *count -= 1;
            if *count == 0 {
                live.by_session.remove(&self.digest);
            }
        }
    }
}
