//! `get_message_into` (records appended to one pull body) agrees with `get_message` (one
//! `Bytes` per record) on statuses, offsets, limits and both filter stages, across file rolls.

mod common;

use bytes::BytesMut;
use common::{body_of, message, small_config};
use ferric_store::{FlushDiskType, GetMessageResult, MessageFilter, MessageStore};

/// Tag filter plus a record filter that rejects bodies whose first byte is a multiple of 3.
struct TagAndBody {
    tag_code: Option<i64>,
}

impl MessageFilter for TagAndBody {
    fn matches_tags_code(&self, tags_code: i64) -> bool {
        self.tag_code.is_none_or(|code| code == tags_code)
    }

    fn matches_record(&self, record: &[u8]) -> bool {
        body_of(record).first().is_some_and(|b| b % 3 != 0)
    }
}

fn into_body(
    store: &MessageStore,
    queue_id: i32,
    offset: i64,
    count: usize,
    max_bytes: usize,
    filter: Option<&dyn MessageFilter>,
) -> (GetMessageResult, BytesMut) {
    let mut body = BytesMut::new();
    let result = store.get_message_into("T", queue_id, offset, count, max_bytes, filter, &mut body);
    (result, body)
}

fn assert_same(
    store: &MessageStore,
    queue_id: i32,
    offset: i64,
    count: usize,
    max_bytes: usize,
    filter: Option<&dyn MessageFilter>,
) {
    let copied = store.get_message("T", queue_id, offset, count, max_bytes, filter);
    let (into, body) = into_body(store, queue_id, offset, count, max_bytes, filter);
    let context = format!("queue {queue_id} offset {offset} count {count} bytes {max_bytes}");
    assert_eq!(into.status, copied.status, "{context}");
    assert_eq!(
        into.next_begin_offset, copied.next_begin_offset,
        "{context}"
    );
    assert_eq!(
        (into.min_offset, into.max_offset),
        (copied.min_offset, copied.max_offset),
        "{context}"
    );
    assert_eq!(into.queue_offsets, copied.queue_offsets, "{context}");
    assert_eq!(
        into.buffer_total_size, copied.buffer_total_size,
        "{context}"
    );
    assert!(into.messages.is_empty(), "{context}");
    assert_eq!(body.to_vec(), copied.messages.concat(), "{context}");
}

#[test]
fn body_matches_copied_records_across_files_limits_and_filters() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(small_config(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    for i in 0..120u32 {
        // 64 KiB CommitLog files and ~1.1-1.7 KiB records: a pull crosses files.
        let size = 1000 + (i as usize % 7) * 100;
        assert!(
            store
                .put_message(message("T", (i % 4) as i32, vec![i as u8; size], "k"))
                .is_ok()
        );
    }
    let tag_a = Some(i64::from(ferric_common::java_hash("TagA")));
    let filters = [
        None,
        Some(TagAndBody { tag_code: None }),
        Some(TagAndBody { tag_code: tag_a }),
    ];
    for queue_id in [0, 1, 2, 9] {
        for offset in [-1, 0, 1, 7, 29, 30, 31, 40] {
            for (count, max_bytes) in [
                (1, usize::MAX),
                (4, usize::MAX),
                (32, usize::MAX),
                (32, 4000),
                (32, 1),
            ] {
                for filter in &filters {
                    let filter = filter.as_ref().map(|f| f as &dyn MessageFilter);
                    assert_same(&store, queue_id, offset, count, max_bytes, filter);
                }
            }
        }
    }
    let (found, body) = into_body(&store, 1, 0, 32, usize::MAX, None);
    assert_eq!(found.queue_offsets.len(), 30);
    assert_eq!(body.len(), found.buffer_total_size);
}

#[test]
fn recent_records_count_as_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(small_config(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    // No queue, or nothing at the offset: nothing to read, so nothing to wait for.
    assert!(store.pull_is_in_memory("T", 0, 0));
    for i in 0..4u8 {
        assert!(
            store
                .put_message(message("T", 0, vec![i; 100], "k"))
                .is_ok()
        );
    }
    assert!(store.pull_is_in_memory("T", 0, 4));
    // A few hundred bytes behind the write position is inside any machine's window (Linux
    // reports its memory size; elsewhere the answer is false and reads use the blocking pool).
    let expected = std::fs::read_to_string("/proc/meminfo").is_ok();
    assert_eq!(store.pull_is_in_memory("T", 0, 0), expected);
}
