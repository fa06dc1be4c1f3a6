//! [`MessageStore`]: the façade the broker uses. Opening runs recovery; puts append to the
//! CommitLog and dispatch to the ConsumeQueue and index under the writer lock; reads go
//! through the ConsumeQueue to raw CommitLog records.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use ferric_common::message::MessageExt;
use ferric_common::record::RecordError;

use crate::checkpoint::{AbortFile, Checkpoint, StoreLock};
use crate::cleanup::{CleanupConfig, CleanupReport, CleanupService, DeleteWhen};
use crate::commit_log::{AppendError, CommitLog};
use crate::config::MessageStoreConfig;
use crate::consume_queue::ConsumeQueueTable;
use crate::dispatch::DispatchRequest;
use crate::error::{StoreError, StoreResult};
use crate::flush::{FlushDiskType, FlushTarget, FlushWait, Flusher};
use crate::index_file::{IndexConfig, IndexService};
use crate::mapped_file_queue::MappedFileQueue;
use crate::recovery::{RecoveryOptions, RecoveryOutcome, recover_commit_log, scan};
use crate::result::{AppendMessageResult, PutMessageResult, PutMessageStatus};
use crate::warm::PageWarmer;

const RETRY_GROUP_TOPIC_PREFIX: &str = "%RETRY%";
const MAX_V1_TOPIC_LEN: usize = 127;
const MAX_TOPIC_LEN: usize = 255;

/// Counters for the broker's runtime info.
#[derive(Debug, Default)]
pub struct StoreStats {
    /// Successful puts (records).
    pub put_message_times_total: AtomicU64,
    /// Bytes of successful puts.
    pub put_message_size_total: AtomicU64,
    /// Failed puts.
    pub put_message_failed_times: AtomicU64,
    /// Gets that found messages.
    pub get_message_times_total_found: AtomicU64,
    /// Gets that found nothing.
    pub get_message_times_total_miss: AtomicU64,
    /// Messages returned by gets.
    pub get_message_transferred_msg_count: AtomicU64,
}

/// The message store.
#[derive(Debug)]
pub struct MessageStore {
    pub(crate) config: MessageStoreConfig,
    pub(crate) commit_log: Arc<CommitLog>,
    pub(crate) consume_queues: Arc<ConsumeQueueTable>,
    pub(crate) index: Option<Arc<IndexService>>,
    cleanup: CleanupService,
    pub(crate) flusher: Flusher,
    warmer: PageWarmer,
    abort: AbortFile,
    lock: Option<StoreLock>,
    closed: AtomicBool,
    recovery: RecoveryOutcome,
    abnormal_recovery: bool,
    pub(crate) stats: StoreStats,
}

impl MessageStore {
    /// Opens (creating if needed) the store at `config.store_path_root_dir`: takes the `lock`
    /// file, runs normal or abnormal recovery (abnormal when an `abort` file is present),
    /// re-dispatches the CommitLog tail to the ConsumeQueues and index, creates the `abort`
    /// marker and starts the flusher.
    pub fn open(config: MessageStoreConfig) -> StoreResult<Self> {
        validate(&config)?;
        let root = config.store_path_root_dir.clone();
        std::fs::create_dir_all(&root)?;
        let lock = StoreLock::acquire(&root)?;
        let abort = AbortFile::new(&root);
        let abnormal = abort.exists();
        let checkpoint = Checkpoint::load(&checkpoint_path(&config))?;

        let files = Arc::new(MappedFileQueue::new(
            config.commit_log_dir(),
            config.mapped_file_size_commit_log,
        )?);
        files.load()?;
        let options = RecoveryOptions {
            check_crc: config.check_crc_on_recover,
            max_record_size: config.max_record_size(),
            normal_recovery_files: config.normal_recovery_files,
        };
        let recovery = recover_commit_log(
            &files,
            abnormal,
            &checkpoint,
            config.message_index_enable,
            options,
        )?;
        let commit_log = Arc::new(CommitLog::new(
            files.clone(),
            config.max_message_size,
            config.delay_level_millis(),
        ));
        commit_log.set_last_store_timestamp(recovery.last_store_timestamp);

        let consume_queues = Arc::new(ConsumeQueueTable::open(
            config.consume_queue_dir(),
            config.mapped_file_size_consume_queue,
        )?);
        consume_queues.recover_all()?;
        consume_queues.truncate_dirty_all(recovery.end_offset)?;
        let index = if config.message_index_enable {
            let index = IndexService::open(
                config.index_dir(),
                IndexConfig {
                    max_hash_slot_num: to_u32("maxHashSlotNum", config.max_hash_slot_num)?,
                    max_index_num: to_u32("maxIndexNum", config.max_index_num)?,
                    max_msgs_num_batch: config.default_query_max_num.max(64),
                },
            )?;
            Some(Arc::new(index))
        } else {
            None
        };

        let mut redispatch_from = consume_queues.max_phy_offset();
        if abnormal {
            redispatch_from = redispatch_from.min(recovery.scan_start);
        }
        let mut index_after = -1;
        if let Some(index) = &index {
            if let Some(from) = index.truncate_beyond(recovery.end_offset)? {
                redispatch_from = redispatch_from.min(from);
            }
            match index.files().last().map(|f| f.header()) {
                Some(header) if header.entry_count() > 0 => {
                    index_after = header.end_phy_offset;
                    redispatch_from = redispatch_from.min(header.end_phy_offset);
                }
                _ => redispatch_from = redispatch_from.min(0),
            }
        }
        redispatch_from = redispatch_from.max(commit_log.min_offset());
        let mut dispatch_error = None;
        let mut redispatched = 0u64;
        scan(&files, redispatch_from, options, |view| {
            if dispatch_error.is_some() {
                return;
            }
            let request = DispatchRequest::from_view(view, commit_log.delay_level_millis());
            let index_this = request.commit_log_offset > index_after;
            let index_ref = index.as_deref().filter(|_| index_this);
            match dispatch(&consume_queues, index_ref, &request) {
                Ok(()) => redispatched += 1,
                Err(e) => dispatch_error = Some(e),
            }
        });
        if let Some(error) = dispatch_error {
            return Err(error);
        }
        consume_queues.correct_min_offsets(commit_log.min_offset());
        let mut table = HashMap::new();
        for queue in consume_queues.queues() {
            table.insert(
                (queue.topic().to_owned(), queue.queue_id()),
                queue.max_offset(),
            );
        }
        commit_log.set_topic_queue_table(table);
        tracing::info!(
            abnormal,
            redispatch_from,
            redispatched,
            end_offset = recovery.end_offset,
            "message store opened"
        );

        let cleanup = CleanupService::with_system(
            CleanupConfig {
                file_reserved_time_hours: config.file_reserved_time_hours,
                delete_when: DeleteWhen::parse(&config.delete_when)?,
                disk_max_used_space_ratio: config.disk_max_used_space_ratio,
                disk_space_warning_level_ratio: f64::from(config.disk_space_warning_level_ratio)
                    / 100.0,
                disk_space_clean_forcibly_ratio: f64::from(config.disk_space_clean_forcibly_ratio)
                    / 100.0,
                ..CleanupConfig::default()
            },
            vec![config.commit_log_dir(), config.consume_queue_dir()],
        );
        cleanup.check_disk();

        abort.create()?;
        let warmer = PageWarmer::start(Arc::clone(&files), files.max_offset())?;
        let target: Arc<dyn FlushTarget> = files;
        let flusher = Flusher::start(target, config.flush_config())?;
        Ok(Self {
            config,
            commit_log,
            consume_queues,
            index,
            cleanup,
            flusher,
            warmer,
            abort,
            lock: Some(lock),
            closed: AtomicBool::new(false),
            recovery,
            abnormal_recovery: abnormal,
            stats: StoreStats::default(),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &MessageStoreConfig {
        &self.config
    }

    /// What recovery did at open, and whether it was abnormal (an `abort` file was found).
    pub fn recovery_outcome(&self) -> (RecoveryOutcome, bool) {
        (self.recovery, self.abnormal_recovery)
    }

    /// Runtime counters.
    pub fn stats(&self) -> &StoreStats {
        &self.stats
    }

    /// The flush failure that poisoned the store, if any.
    pub fn poisoned(&self) -> Option<String> {
        self.flusher.poisoned()
    }

    /// CommitLog offset known to be on disk.
    pub fn flushed_offset(&self) -> i64 {
        self.flusher.flushed_offset() as i64
    }

    /// Stores one message. Its queue offset, physical offset, store timestamp and body CRC are
    /// assigned by the store.
    pub fn put_message(&self, message: MessageExt) -> PutMessageResult {
        self.put(std::slice::from_ref(&message))
    }

    /// Stores a batch: all records in one CommitLog file, consecutive queue offsets per queue,
    /// one lock acquisition and (in SYNC_FLUSH) one group-commit wait.
    pub fn put_messages(&self, batch: Vec<MessageExt>) -> PutMessageResult {
        self.put(&batch)
    }

    fn put(&self, messages: &[MessageExt]) -> PutMessageResult {
        let (append, end, wait) = match self.append_stage(messages) {
            Ok(appended) => appended,
            Err(failed) => return failed,
        };
        let status = match self.flusher.flush_disk_type() {
            FlushDiskType::SyncFlush if wait => flush_status(
                self.flusher
                    .wait_flushed(end, self.config.sync_flush_timeout),
            ),
            _ => {
                self.flusher.wake_after_append(end);
                PutMessageStatus::PutOk
            }
        };
        PutMessageResult {
            status,
            append: Some(append),
        }
    }

    /// Validates and appends (dispatching to the ConsumeQueues and index) without waiting for
    /// the disk; counts the put in the stats. Returns the append, the CommitLog end offset to
    /// flush, and whether the producer waits for the flush (`WAIT` is not `false`).
    pub(crate) fn append_stage(
        &self,
        messages: &[MessageExt],
    ) -> Result<(AppendMessageResult, u64, bool), PutMessageResult> {
        let appended = self.append_inner(messages);
        match &appended {
            Ok((append, end, _)) => {
                self.warmer.after_append(*end);
                self.stats
                    .put_message_times_total
                    .fetch_add(append.msg_num as u64, Ordering::Relaxed);
                self.stats
                    .put_message_size_total
                    .fetch_add(append.wrote_bytes as u64, Ordering::Relaxed);
            }
            Err(_) => {
                self.stats
                    .put_message_failed_times
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
        appended
    }

    fn append_inner(
        &self,
        messages: &[MessageExt],
    ) -> Result<(AppendMessageResult, u64, bool), PutMessageResult> {
        let failed = |status| Err(PutMessageResult::failed(status));
        if self.closed.load(Ordering::Acquire) {
            return failed(PutMessageStatus::ServiceNotAvailable);
        }
        if let Some(reason) = self.flusher.poisoned() {
            tracing::warn!(%reason, "put refused: store poisoned");
            return failed(PutMessageStatus::ServiceNotAvailable);
        }
        if self.cleanup.is_disk_full() {
            tracing::warn!("put refused: disk full");
            return failed(PutMessageStatus::ServiceNotAvailable);
        }
        if messages.is_empty() {
            return failed(PutMessageStatus::MessageIllegal);
        }
        for message in messages {
            if let Some(status) = check_message(message, self.config.max_message_size) {
                return failed(status);
            }
        }
        let consume_queues = &self.consume_queues;
        let index = self.index.as_deref();
        let appended = self
            .commit_log
            .append(messages, |request| dispatch(consume_queues, index, request));
        let records = match appended {
            Ok(Ok(records)) => records,
            Ok(Err(error)) => {
                tracing::error!(%error, "dispatch after append failed");
                return failed(PutMessageStatus::UnknownError);
            }
            Err(error) => return failed(append_error_status(&error)),
        };
        let Some(first) = records.first() else {
            return failed(PutMessageStatus::UnknownError);
        };
        let end = records
            .last()
            .map_or(0, |r| r.wrote_offset + i64::from(r.wrote_bytes));
        let append = AppendMessageResult {
            wrote_offset: first.wrote_offset,
            wrote_bytes: records.iter().map(|r| i64::from(r.wrote_bytes)).sum(),
            msg_id: if let [only] = records.as_slice() {
                only.msg_id.clone()
            } else {
                records
                    .iter()
                    .map(|r| r.msg_id.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            },
            logics_offset: first.queue_offset,
            store_timestamp: first.store_timestamp,
            msg_num: records.len(),
            records,
        };
        let wait = messages
            .iter()
            .all(|m| m.properties.get("WAIT") != Some("false"));
        Ok((append, u64::try_from(end).unwrap_or(0), wait))
    }

    /// One cleanup run (the broker calls this periodically, e.g. every 10 s): measures the disk
    /// (updating the disk-full flag that makes puts return `ServiceNotAvailable`), deletes
    /// expired CommitLog files per `deleteWhen` / `fileReservedTime` / disk watermarks, then
    /// the ConsumeQueue and index files that only point below the new CommitLog minimum.
    pub fn run_cleanup(&self) -> StoreResult<CleanupReport> {
        self.cleanup.run_cleanup(
            self.commit_log.files(),
            &self.consume_queues,
            self.index.as_deref(),
        )
    }

    /// True while the disk is above `diskSpaceWarningLevelRatio` (puts are refused).
    pub fn is_disk_full(&self) -> bool {
        self.cleanup.is_disk_full()
    }

    /// Flushes everything, writes the checkpoint and deletes the `abort` file (only when no
    /// flush failed). Further puts return `ServiceNotAvailable`. Idempotent; also run on drop.
    pub fn shutdown(&mut self) -> StoreResult<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.warmer.stop();
        self.flusher.stop();
        if let Some(reason) = self.flusher.poisoned() {
            self.lock.take();
            return Err(StoreError::Poisoned(reason));
        }
        self.consume_queues.flush_all()?;
        if let Some(index) = &self.index {
            index.flush()?;
        }
        let timestamp = self.commit_log.last_store_timestamp();
        let checkpoint = Checkpoint {
            physic_msg_timestamp: timestamp,
            logics_msg_timestamp: timestamp,
            index_msg_timestamp: timestamp,
        };
        checkpoint.store(&checkpoint_path(&self.config))?;
        self.abort.remove()?;
        self.lock.take();
        Ok(())
    }

    /// Test hook: stops as if the process were killed. Nothing more is flushed, no checkpoint is
    /// written and the `abort` file stays, so the next open runs abnormal recovery. (Written
    /// bytes stay in the page cache, exactly as after a `kill -9`.)
    pub fn simulate_crash(mut self) {
        self.closed.store(true, Ordering::Release);
        self.warmer.stop();
        self.flusher.abandon();
        self.lock.take();
    }
}

impl Drop for MessageStore {
    fn drop(&mut self) {
        if let Err(error) = self.shutdown() {
            tracing::error!(%error, "message store shutdown on drop failed");
        }
    }
}

/// Sends one record to its ConsumeQueue (NOT_TYPE / COMMIT) and the index (all but ROLLBACK).
pub(crate) fn dispatch(
    consume_queues: &ConsumeQueueTable,
    index: Option<&IndexService>,
    request: &DispatchRequest<'_>,
) -> StoreResult<()> {
    if request.goes_to_consume_queue() {
        consume_queues
            .get_or_create(request.topic, request.queue_id)?
            .put_unit(
                request.consume_queue_offset,
                request.commit_log_offset,
                request.msg_size,
                request.tags_code,
            )?;
    }
    if let Some(index) = index
        && request.goes_to_index()
    {
        index.build_index(
            request.topic,
            request.keys.as_deref(),
            request.uniq_key.as_deref(),
            request.commit_log_offset,
            request.store_timestamp,
        )?;
    }
    Ok(())
}

fn check_message(message: &MessageExt, max_message_size: usize) -> Option<PutMessageStatus> {
    let topic_len = message.topic.len();
    let retry = message.topic.starts_with(RETRY_GROUP_TOPIC_PREFIX);
    if message.topic.is_empty()
        || topic_len > MAX_TOPIC_LEN
        || (topic_len > MAX_V1_TOPIC_LEN && !retry)
    {
        return Some(PutMessageStatus::MessageIllegal);
    }
    if message.properties.encoded_len() > i16::MAX as usize {
        return Some(PutMessageStatus::PropertiesSizeExceeded);
    }
    if message.body.len() > max_message_size {
        return Some(PutMessageStatus::MessageIllegal);
    }
    None
}

/// The put status of a group-commit outcome.
pub(crate) fn flush_status(outcome: FlushWait) -> PutMessageStatus {
    match outcome {
        FlushWait::Flushed => PutMessageStatus::PutOk,
        FlushWait::TimedOut => PutMessageStatus::FlushDiskTimeout,
        FlushWait::Failed(reason) => {
            tracing::error!(%reason, "group commit failed");
            PutMessageStatus::FlushDiskTimeout
        }
    }
}

fn append_error_status(error: &AppendError) -> PutMessageStatus {
    match error {
        AppendError::Encode(RecordError::PropertiesTooLong { .. }) => {
            PutMessageStatus::PropertiesSizeExceeded
        }
        AppendError::Encode(_) | AppendError::TooLarge { .. } | AppendError::EmptyBatch => {
            PutMessageStatus::MessageIllegal
        }
        AppendError::Io(error) => {
            tracing::error!(%error, "commit log append failed");
            PutMessageStatus::UnknownError
        }
    }
}

fn checkpoint_path(config: &MessageStoreConfig) -> PathBuf {
    config.store_path_root_dir.join("checkpoint")
}

fn to_u32(key: &'static str, value: usize) -> StoreResult<u32> {
    u32::try_from(value).map_err(|_| StoreError::Config {
        key,
        reason: format!("{value} too large"),
    })
}

fn validate(config: &MessageStoreConfig) -> StoreResult<()> {
    if config.mapped_file_size_commit_log < 4096 {
        return Err(StoreError::Config {
            key: "mappedFileSizeCommitLog",
            reason: format!(
                "{} is smaller than 4096",
                config.mapped_file_size_commit_log
            ),
        });
    }
    Ok(())
}
