//! Real crash test: a child process (this test binary re-executed) appends in SYNC_FLUSH and
//! prints every acknowledged queue offset; the parent SIGKILLs it at random moments, reopens the
//! store and checks that every acknowledged message is there, intact and in order.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{body_of, message, small_config};
use ferric_store::{FlushDiskType, MessageStore, PutMessageStatus};
use rand::Rng;

const CHILD_ENV: &str = "FERRIC_STORE_KILL_CHILD_DIR";

fn body(seq: i64) -> Vec<u8> {
    format!("message-{seq:08}-")
        .repeat(1 + (seq % 7) as usize)
        .into_bytes()
}

/// Entry point of the child: only active when the parent sets the environment variable.
#[test]
fn child_writer_entry() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store =
        MessageStore::open(small_config(Path::new(&dir), FlushDiskType::SyncFlush)).unwrap();
    let mut seq = store.get_max_offset_in_queue("K", 0);
    println!("ready {seq}");
    loop {
        let result = store.put_message(message("K", 0, body(seq), &format!("k{seq}")));
        assert_eq!(result.status, PutMessageStatus::PutOk);
        assert_eq!(result.append.unwrap().logics_offset, seq);
        println!("ack {seq}");
        seq += 1;
    }
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::rng();
    let mut acked: i64 = 0;
    let started = Instant::now();
    let mut cycles = 0;
    while cycles < 12 && started.elapsed() < Duration::from_secs(20) {
        cycles += 1;
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "child_writer_entry",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait until the child has opened the store, then let it run for a random while.
        // libtest may print "test child_writer_entry ... " on the same line before "ready".
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let line = receiver.recv_timeout(Duration::from_secs(10)).unwrap();
            if line.contains("ready ") {
                break;
            }
            assert!(Instant::now() < deadline, "child never became ready");
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(5..250)));
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
        for line in receiver.try_iter() {
            if let Some(seq) = line.trim().strip_prefix("ack ") {
                let seq: i64 = seq.trim().parse().unwrap();
                assert_eq!(seq, acked, "acks out of order");
                acked = seq + 1;
            }
        }

        let store = MessageStore::open(small_config(dir.path(), FlushDiskType::SyncFlush)).unwrap();
        assert!(
            store.recovery_outcome().1,
            "a killed store must recover abnormally"
        );
        let max = store.get_max_offset_in_queue("K", 0);
        assert!(
            max >= acked,
            "cycle {cycles}: {max} stored < {acked} acknowledged"
        );
        let mut offset = 0;
        while offset < max {
            let got = store.get_message("K", 0, offset, 32, 1 << 20, None);
            assert!(!got.messages.is_empty(), "hole at {offset}");
            for (raw, queue_offset) in got.messages.iter().zip(&got.queue_offsets) {
                assert_eq!(*queue_offset, offset);
                assert_eq!(body_of(raw), body(offset));
                offset += 1;
            }
        }
        acked = max;
        store.simulate_crash();
    }
    assert!(acked > 0, "the child never acknowledged anything");
}
