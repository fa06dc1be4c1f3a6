use std::sync::Arc;

use super::*;
use crate::mapped_file_queue::MappedFileQueue;

#[test]
fn file_names_round_trip() {
    assert_eq!(offset_to_file_name(1_048_576), "00000000000001048576");
    assert_eq!(file_name_to_offset("00000000000001048576"), Some(1_048_576));
    assert_eq!(file_name_to_offset("0000000000000104857"), None);
    assert_eq!(file_name_to_offset("0000000000000104857x"), None);
}

#[test]
fn a_staging_file_left_by_a_kill_is_ignored_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let name = offset_to_file_name(0);
    std::fs::write(dir.path().join(format!("{name}.tmp")), b"").unwrap();
    let queue = MappedFileQueue::new(dir.path(), 100).unwrap();
    queue.load().unwrap();
    assert!(queue.is_empty());
    let file = queue.last_or_create(0).unwrap();
    assert_eq!(file.append(&[1; 10]), Some(0));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, [name]);
    assert_eq!(std::fs::metadata(file.path()).unwrap().len(), 100);
}

#[test]
fn append_read_flush_and_full() {
    let dir = tempfile::tempdir().unwrap();
    let file = MappedFile::create(dir.path(), 4096, 100).unwrap();
    assert_eq!(file.append(&[1; 60]), Some(0));
    assert_eq!(file.append(&[2; 40]), Some(60));
    assert_eq!(file.append(&[3; 1]), None);
    assert!(file.is_full());
    assert_eq!(file.read(58, 4).unwrap().as_ref(), &[1, 1, 2, 2]);
    assert!(file.read(99, 2).is_none());
    assert_eq!(file.flush().unwrap(), 100);
    drop(file);
    let reopened = MappedFile::open(&dir.path().join("00000000000000004096"), 100).unwrap();
    assert_eq!(reopened.wrote_position(), 100);
    assert_eq!(reopened.file_from_offset(), 4096);
    assert_eq!(reopened.read(60, 1).unwrap().as_ref(), &[2]);
}

#[test]
fn open_rejects_wrong_size_and_bad_name() {
    let dir = tempfile::tempdir().unwrap();
    MappedFile::create(dir.path(), 0, 100).unwrap();
    assert!(MappedFile::open(&dir.path().join("00000000000000000000"), 200).is_err());
    std::fs::write(dir.path().join("abc"), b"x").unwrap();
    assert!(MappedFile::open(&dir.path().join("abc"), 1).is_err());
}

#[test]
fn truncate_zeroes_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let file = MappedFile::create(dir.path(), 0, 200_000).unwrap();
    file.append(&[7; 150_000]).unwrap();
    file.truncate_to(10).unwrap();
    assert_eq!(file.wrote_position(), 10);
    file.set_positions(200_000);
    let all_zero = file
        .read_with(10, 199_990, |s| s.iter().all(|&b| b == 0))
        .unwrap();
    assert!(all_zero);
    assert_eq!(file.read(0, 10).unwrap().as_ref(), &[7; 10]);
}

#[test]
fn queue_rolls_finds_and_truncates() {
    let dir = tempfile::tempdir().unwrap();
    let queue = MappedFileQueue::new(dir.path().join("q"), 64).unwrap();
    assert!(queue.is_empty());
    assert_eq!(queue.max_offset(), 0);
    let mut written = 0u64;
    while written < 64 * 3 + 10 {
        let file = queue.last_or_create(0).unwrap();
        file.append(&[written as u8; 16]).unwrap();
        written += 16;
    }
    assert_eq!(queue.len(), 4);
    assert_eq!(queue.min_offset(), Some(0));
    assert_eq!(queue.max_offset(), 208);
    assert_eq!(queue.find_by_offset(130).unwrap().file_from_offset(), 128);
    assert!(queue.find_by_offset(256).is_none());
    assert_eq!(queue.flush().unwrap(), 208);

    queue.truncate_dirty_files(100).unwrap();
    assert_eq!(queue.len(), 2);
    assert_eq!(queue.max_offset(), 100);

    let reloaded = MappedFileQueue::new(dir.path().join("q"), 64).unwrap();
    reloaded.load().unwrap();
    assert_eq!(reloaded.len(), 2);
    reloaded.set_end_offset(100);
    assert_eq!(reloaded.max_offset(), 100);
    assert_eq!(reloaded.first().unwrap().wrote_position(), 64);

    let deleted = reloaded.delete_files_while(10, |_| true).unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(reloaded.min_offset(), Some(64));
    assert!(!dir.path().join("q").join("00000000000000000000").exists());
}

#[test]
fn queue_starts_at_rounded_offset() {
    let dir = tempfile::tempdir().unwrap();
    let queue = MappedFileQueue::new(dir.path(), 100).unwrap();
    let file = queue.last_or_create(250).unwrap();
    assert_eq!(file.file_from_offset(), 200);
}

#[test]
fn concurrent_readers_see_only_published_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let file = Arc::new(MappedFile::create(dir.path(), 0, 1 << 16).unwrap());
    let reader = {
        let file = file.clone();
        std::thread::spawn(move || {
            for _ in 0..2_000 {
                let wrote = file.wrote_position();
                let ok = file
                    .read_with(0, wrote, |s| s.iter().all(|&b| b == 9))
                    .unwrap();
                assert!(ok);
            }
        })
    };
    for _ in 0..(1 << 16) / 64 {
        file.append(&[9; 64]).unwrap();
    }
    reader.join().unwrap();
}

#[test]
fn append_padded_skips_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let file = MappedFile::create(dir.path(), 0, 100).unwrap();
    file.append(&[1; 10]).unwrap();
    assert_eq!(file.append_padded(&[5; 8], 90), Some(10));
    assert!(file.is_full());
    assert_eq!(
        file.read(10, 9).unwrap().as_ref(),
        &[5, 5, 5, 5, 5, 5, 5, 5, 0]
    );
    assert_eq!(file.append_padded(&[1], 1), None);
}

#[test]
fn write_all_at_writes_every_region_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let file = MappedFile::open_random_access(&dir.path().join("random"), 64).unwrap();
    assert_eq!(
        file.write_all_at(&[(0, &[1, 2][..]), (60, &[3; 4][..])]),
        Some(())
    );
    assert_eq!(file.read(0, 2).unwrap().as_ref(), &[1, 2]);
    assert_eq!(file.read(60, 4).unwrap().as_ref(), &[3; 4]);
    assert_eq!(
        file.write_all_at(&[(10, &[9][..]), (61, &[9; 4][..])]),
        None
    );
    assert_eq!(file.read(10, 1).unwrap().as_ref(), &[0]);
}
