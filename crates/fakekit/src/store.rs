//! A fake platform's records, persisted: one document (JSON) held in
//! memory, written to its file atomically on every change (a reader in
//! another process, like `deploylab check`, sees the old document or the
//! new one, never half of one), with a revision counter that parts of the
//! platform can watch to act on changes.

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use crate::{Error, Result};

/// The document `T` kept in `file`.
pub struct Store<T> {
    file: PathBuf,
    value: T,
    /// Changes saved since the store was opened.
    changes: watch::Sender<u64>,
}

impl<T: Serialize + DeserializeOwned + Default> Store<T> {
    /// The document in `file`; a new one where there is none (or one that
    /// cannot be read, which is said in the log and replaced on save).
    pub fn open(file: PathBuf) -> Store<T> {
        let value = match std::fs::read_to_string(&file) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!("{}: {e}; starting from an empty one", file.display());
                T::default()
            }),
            Err(_) => T::default(),
        };
        Store {
            file,
            value,
            changes: watch::Sender::new(0),
        }
    }

    /// Writes the document as it is now, atomically, and counts the change.
    /// Returns the new revision.
    pub fn save(&mut self) -> Result<u64> {
        let text = serde_json::to_vec_pretty(&self.value).expect("the document serializes");
        write_atomically(&self.file, &text)?;
        let mut revision = 0;
        self.changes.send_modify(|n| {
            *n += 1;
            revision = *n;
        });
        Ok(revision)
    }

    /// How many changes have been saved since the store was opened.
    pub fn revision(&self) -> u64 {
        *self.changes.borrow()
    }

    /// A receiver that wakes on every saved change (`changed()`).
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }
}

impl<T> Deref for Store<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for Store<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

/// `bytes` into `path` through a temporary file in the same folder and a
/// rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let context = format!("writing {}", path.display());
    let parent = path.parent().expect("a file has a folder");
    std::fs::create_dir_all(parent).map_err(Error::io(&context))?;
    let mut tmp = tempfile::NamedTempFile::new_in(parent).map_err(Error::io(&context))?;
    tmp.write_all(bytes).map_err(Error::io(&context))?;
    tmp.persist(path).map_err(|e| Error::io(context)(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Apps {
        names: Vec<String>,
    }

    #[tokio::test]
    async fn saved_changes_persist_count_and_wake_watchers() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state.json");
        let mut store: Store<Apps> = Store::open(file.clone());
        assert_eq!(*store, Apps::default());
        let mut watcher = store.watch();
        store.names.push("loja".into());
        assert_eq!(store.save().unwrap(), 1);
        watcher.changed().await.unwrap();
        assert_eq!(*watcher.borrow(), 1);
        store.names.push("blog".into());
        assert_eq!(store.save().unwrap(), 2);
        assert_eq!(store.revision(), 2);
        let again: Store<Apps> = Store::open(file.clone());
        assert_eq!(again.names, ["loja", "blog"]);
        // Nothing but the document is left in the folder.
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(files.len(), 1);
    }

    #[test]
    fn a_broken_document_opens_empty_and_is_replaced_on_save() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state.json");
        std::fs::write(&file, "{ not json").unwrap();
        let mut store: Store<Apps> = Store::open(file.clone());
        assert!(store.names.is_empty());
        store.save().unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(serde_json::from_str::<Apps>(&text).is_ok(), "{text}");
    }
}
