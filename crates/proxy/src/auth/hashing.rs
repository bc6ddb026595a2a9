//! Argon2 work, on one thread, in one buffer while there is work.
//!
//! Each check needs the hash's memory cost at once (19 MiB with the crate's
//! defaults). Allocated per check, glibc kept those blocks in the arena of
//! whichever blocking thread ran it: 185 MB resident after four sign-ins,
//! measured. Here one thread does all hashing in one reused buffer, and new
//! hashes cost 7 MiB (OWASP's m=7 MiB, t=5 variant). When no more work is
//! waiting the buffer is given back: kept, it was 7.3 of the idle proxy's
//! 23 MB resident, for the life of the process (found with heaptrack).

use std::cell::RefCell;
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock, PoisonError};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

thread_local! {
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Hashes into this thread's reused memory, growing it if `argon2` needs more.
fn hash_into(
    argon2: &Argon2<'_>,
    blocks: usize,
    passcode: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> bool {
    MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        argon2
            .hash_password_into_with_memory(passcode, salt, out, &mut memory[..blocks])
            .is_ok()
    })
}

/// Whether `passcode` matches the PHC string `phc`. Run it on the hashing thread.
pub fn verify(phc: &str, passcode: &[u8]) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) =
        (Algorithm::try_from(hash.algorithm), Params::try_from(&hash))
    else {
        return false;
    };
    let version = hash
        .version
        .map_or(Ok(Version::default()), Version::try_from)
        .unwrap_or_default();
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    // `Output`'s equality is constant-time.
    hash_into(&argon2, blocks, passcode, salt, &mut out)
        && Output::new(&out).is_ok_and(|out| out == expected)
}

/// A new Argon2id PHC string for `passcode`. Run it on the hashing thread.
pub fn hash(passcode: &[u8], salt: &SaltString) -> Result<String, String> {
    let argon2 = argon2();
    let params = argon2.params().clone();
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|err| err.to_string())?;
    let mut out = [0u8; 32];
    if !hash_into(&argon2, params.block_count(), passcode, salt_raw, &mut out) {
        return Err("Argon2 refused its parameters".to_owned());
    }
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|err| err.to_string())?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|err| err.to_string())?),
    };
    Ok(hash.to_string())
}

type Job = Box<dyn FnOnce() + Send>;

/// The parameters of new hashes; existing hashes carry their own.
fn argon2() -> Argon2<'static> {
    let params = Params::new(7 * 1024, 5, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Runs `job` on the hashing thread and waits for its result; `Err` only if
/// that thread could not be started.
pub fn on_hashing_thread<R: Send + 'static>(
    job: impl FnOnce() -> R + Send + 'static,
) -> Result<R, String> {
    static JOBS: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let jobs = JOBS.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("passcode-hashing".to_owned())
            .spawn(move || {
                let mut next = receiver.recv().ok();
                while let Some(job) = next {
                    job();
                    next = match receiver.try_recv() {
                        // A flood of sign-ins keeps reusing the buffer.
                        Ok(job) => Some(job),
                        Err(mpsc::TryRecvError::Empty) => {
                            MEMORY.with_borrow_mut(|memory| *memory = Vec::new());
                            receiver.recv().ok()
                        }
                        Err(mpsc::TryRecvError::Disconnected) => None,
                    };
                }
            });
        if let Err(err) = spawned {
            tracing::error!(error = %err, "cannot start the passcode hashing thread");
        }
        Mutex::new(sender)
    });
    let (reply, result) = mpsc::sync_channel(1);
    let sent = jobs
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .send(Box::new(move || {
            let _ = reply.send(job());
        }));
    sent.ok()
        .and_then(|()| result.recv().ok())
        .ok_or_else(|| "the passcode hashing thread is not running".to_owned())
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::rand_core::OsRng;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    #[test]
    fn the_hashing_memory_is_given_back_once_nothing_waits() {
        let salt = SaltString::generate(&mut OsRng);
        let hashed = on_hashing_thread(move || hash(b"open sesame", &salt));
        assert!(hashed.is_ok_and(|phc| phc.is_ok()));
        // Asking is itself work for the thread: once nothing else waits (other
        // tests hash too), the buffer is gone.
        let held = || on_hashing_thread(|| MEMORY.with_borrow(Vec::capacity));
        let released = (0..50).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            held() == Ok(0)
        });
        assert!(released, "the buffer is still held: {:?} blocks", held());
    }

    #[test]
    fn hashes_agree_with_the_argon2_crates_own_hasher_and_verifier() {
        let salt = SaltString::generate(&mut OsRng);
        let ours = hash(b"open sesame", &salt).expect("hashes");
        assert!(ours.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{ours}");
        let parsed = PasswordHash::new(&ours).expect("a PHC string");
        assert!(
            Argon2::default()
                .verify_password(b"open sesame", &parsed)
                .is_ok()
        );

        // A hash made elsewhere with the crate's defaults (19 MiB) still verifies.
        let theirs = Argon2::default()
            .hash_password(b"open sesame", &salt)
            .expect("hashes")
            .to_string();
        assert!(verify(&theirs, b"open sesame"));
        assert!(!verify(&theirs, b"open sesame!"));
        assert!(verify(&ours, b"open sesame"));
        assert!(!verify(&ours, b""));
        assert!(!verify("not a hash", b"open sesame"));
    }
}
