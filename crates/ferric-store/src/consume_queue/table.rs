//! The table of all consume queues under `consumequeue/`: topic → queueId → [`ConsumeQueue`].

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;

use super::{CQ_UNIT_SIZE, ConsumeQueue};
use crate::error::{StoreError, StoreResult};

type QueueMap = BTreeMap<String, BTreeMap<i32, Arc<ConsumeQueue>>>;

/// Every consume queue of a store, loaded from `consumequeue/<topic>/<queueId>/` at open and
/// created on demand by the dispatcher.
#[derive(Debug)]
pub struct ConsumeQueueTable {
    root: PathBuf,
    file_size: usize,
    queues: RwLock<QueueMap>,
}

impl ConsumeQueueTable {
    /// Opens the `consumequeue` directory `root` (created if missing) and maps every queue in it.
    /// Directories whose name is not a queue id are skipped with a warning. Call
    /// [`Self::recover_all`] afterwards to find where each queue's data ends.
    pub fn open(root: impl Into<PathBuf>, file_size: usize) -> StoreResult<Self> {
        let root = root.into();
        if file_size == 0 || !file_size.is_multiple_of(CQ_UNIT_SIZE) {
            return Err(StoreError::Config {
                key: "mappedFileSizeConsumeQueue",
                reason: format!("{file_size} is not a positive multiple of {CQ_UNIT_SIZE}"),
            });
        }
        fs::create_dir_all(&root)?;
        let mut queues = QueueMap::new();
        for topic_entry in fs::read_dir(&root)? {
            let topic_entry = topic_entry?;
            if !topic_entry.file_type()?.is_dir() {
                continue;
            }
            let Some(topic) = topic_entry.file_name().to_str().map(str::to_owned) else {
                tracing::warn!(path = %topic_entry.path().display(), "skipping non-UTF-8 topic directory");
                continue;
            };
            for queue_entry in fs::read_dir(topic_entry.path())? {
                let queue_entry = queue_entry?;
                if !queue_entry.file_type()?.is_dir() {
                    continue;
                }
                let Some(queue_id) = queue_entry
                    .file_name()
                    .to_str()
                    .and_then(|name| name.parse::<i32>().ok())
                else {
                    tracing::warn!(path = %queue_entry.path().display(), "skipping directory that is not a queue id");
                    continue;
                };
                let queue = ConsumeQueue::open(queue_entry.path(), &topic, queue_id, file_size)?;
                queues
                    .entry(topic.clone())
                    .or_default()
                    .insert(queue_id, Arc::new(queue));
            }
        }
        Ok(ConsumeQueueTable {
            root,
            file_size,
            queues: RwLock::new(queues),
        })
    }

    /// The `consumequeue` directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The queue of (topic, queue_id), if it exists.
    pub fn get(&self, topic: &str, queue_id: i32) -> Option<Arc<ConsumeQueue>> {
        self.queues.read().get(topic)?.get(&queue_id).cloned()
    }

    /// The queue of (topic, queue_id), created (empty, no file yet) if missing.
    pub fn get_or_create(&self, topic: &str, queue_id: i32) -> StoreResult<Arc<ConsumeQueue>> {
        if let Some(queue) = self.get(topic, queue_id) {
            return Ok(queue);
        }
        if !is_safe_dir_name(topic) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("topic {topic:?} cannot be a consume queue directory name"),
            )
            .into());
        }
        let mut queues = self.queues.write();
        let per_topic = queues.entry(topic.to_owned()).or_default();
        if let Some(queue) = per_topic.get(&queue_id) {
            return Ok(queue.clone());
        }
        let dir = self.root.join(topic).join(queue_id.to_string());
        let queue = Arc::new(ConsumeQueue::open(dir, topic, queue_id, self.file_size)?);
        per_topic.insert(queue_id, queue.clone());
        Ok(queue)
    }

    /// All queues, ordered by topic then queue id.
    pub fn queues(&self) -> Vec<Arc<ConsumeQueue>> {
        self.queues
            .read()
            .values()
            .flat_map(|per_topic| per_topic.values().cloned())
            .collect()
    }

    /// The queues of one topic, ordered by queue id.
    pub fn queues_of(&self, topic: &str) -> Vec<Arc<ConsumeQueue>> {
        self.queues
            .read()
            .get(topic)
            .map(|per_topic| per_topic.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Topics that have at least one queue.
    pub fn topics(&self) -> Vec<String> {
        self.queues.read().keys().cloned().collect()
    }

    /// Runs [`ConsumeQueue::recover`] on every queue.
    pub fn recover_all(&self) -> StoreResult<()> {
        for queue in self.queues() {
            queue.recover()?;
        }
        Ok(())
    }

    /// Runs [`ConsumeQueue::truncate_dirty`] on every queue.
    pub fn truncate_dirty_all(&self, commit_log_max_offset: i64) -> StoreResult<()> {
        for queue in self.queues() {
            queue.truncate_dirty(commit_log_max_offset)?;
        }
        Ok(())
    }

    /// The largest CommitLog end offset any queue points at: dispatch can resume from here.
    pub fn max_phy_offset(&self) -> i64 {
        self.queues()
            .iter()
            .map(|queue| queue.max_phy_offset())
            .max()
            .unwrap_or(0)
    }

    /// Runs [`ConsumeQueue::correct_min_offset`] on every queue.
    pub fn correct_min_offsets(&self, commit_log_min_offset: i64) {
        for queue in self.queues() {
            queue.correct_min_offset(commit_log_min_offset);
        }
    }

    /// Runs [`ConsumeQueue::delete_expired`] on every queue; returns the files deleted.
    pub fn delete_expired_all(&self, commit_log_min_offset: i64) -> StoreResult<usize> {
        let mut deleted = 0;
        for queue in self.queues() {
            deleted += queue.delete_expired(commit_log_min_offset)?;
        }
        Ok(deleted)
    }

    /// Flushes every queue.
    pub fn flush_all(&self) -> StoreResult<()> {
        for queue in self.queues() {
            queue.flush()?;
        }
        Ok(())
    }

    /// Deletes every queue of `topic` with its files and directory; false if it had none.
    pub fn remove_topic(&self, topic: &str) -> StoreResult<bool> {
        let Some(per_topic) = self.queues.write().remove(topic) else {
            return Ok(false);
        };
        for queue in per_topic.values() {
            queue.destroy()?;
        }
        let dir = self.root.join(topic);
        match fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        Ok(true)
    }
}

/// A topic is used verbatim as a directory name, so it must not escape `consumequeue/`.
fn is_safe_dir_name(topic: &str) -> bool {
    !topic.is_empty() && topic != "." && topic != ".." && !topic.contains(['/', '\\', '\0'])
}
