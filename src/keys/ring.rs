//! Keys that change while the service runs: rotation, pruning, and instances picking up the new set.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use super::{Alg, KeyError, KeySet, generate, load_dir, now};

/// The live key set, swapped whole when the directory changes. Readers take an `Arc` and never wait on I/O.
pub struct KeyRing {
    dir: PathBuf,
    default_alg: Alg,
    current: RwLock<Arc<KeySet>>,
    /// The file names the current set was loaded from.
    listing: Mutex<Vec<String>>,
}

impl KeyRing {
    /// Loads the directory, making the missing keys first.
    pub fn open(dir: &Path, default_alg: Alg) -> Result<KeyRing, KeyError> {
        let set = KeySet::load_or_create(dir, default_alg)?;
        Ok(KeyRing {
            dir: dir.into(),
            default_alg,
            current: RwLock::new(Arc::new(set)),
            listing: Mutex::new(listing(dir)?),
        })
    }

    pub fn current(&self) -> Arc<KeySet> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Reloads the keys when the directory's files changed; returns whether it did.
    /// A directory that no longer holds a key of every algorithm is refused and the current set kept.
    pub fn reload(&self) -> Result<bool, KeyError> {
        let now_listing = listing(&self.dir)?;
        let mut known = self.listing.lock().unwrap_or_else(|e| e.into_inner());
        if *known == now_listing {
            return Ok(false);
        }
        let set = KeySet::load(&self.dir, self.default_alg)?;
        if let Some(missing) = Alg::ALL.iter().find(|a| !set.keys.iter().any(|k| k.alg == **a)) {
            return Err(KeyError::File(
                self.dir.clone(),
                format!("no {} key left; keeping the loaded keys", missing.as_str()),
            ));
        }
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
        *known = now_listing;
        tracing::info!(dir = %self.dir.display(), "signing keys reloaded");
        Ok(true)
    }
}

fn listing(dir: &Path) -> Result<Vec<String>, KeyError> {
    let err = |e: std::io::Error| KeyError::File(dir.into(), e.to_string());
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(err)? {
        let name = entry.map_err(err)?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".pem") {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Adds a new key for every algorithm; from now on they sign. Returns the new files.
pub fn rotate(dir: &Path) -> Result<Vec<PathBuf>, KeyError> {
    let newest = load_dir(dir)?.iter().map(|k| k.created).max().unwrap_or(0);
    // Names carry the creation second; never reuse one, even when rotating twice in a second.
    let created = now().max(newest + 1);
    Alg::ALL.iter().map(|alg| generate(dir, *alg, created)).collect()
}

/// Removes retired keys: not the newest of their algorithm, and replaced more than `grace_secs` ago, so no
/// token they signed can still be valid. Returns the removed files.
pub fn prune(dir: &Path, grace_secs: u64) -> Result<Vec<PathBuf>, KeyError> {
    let keys = load_dir(dir)?;
    let now = now();
    let mut removed = Vec::new();
    for key in &keys {
        // The oldest key of the same algorithm made after this one: the key that replaced it.
        let successor = keys.iter().filter(|k| k.alg == key.alg && k.created > key.created).map(|k| k.created).min();
        if successor.is_some_and(|s| s + grace_secs <= now) {
            std::fs::remove_file(&key.path).map_err(|e| KeyError::File(key.path.clone(), e.to_string()))?;
            // The SAML signing certificate made for the key, if any (`<stem>.crt`), goes with it.
            let _ = std::fs::remove_file(key.path.with_extension("crt"));
            removed.push(key.path.clone());
        }
    }
    Ok(removed)
}
