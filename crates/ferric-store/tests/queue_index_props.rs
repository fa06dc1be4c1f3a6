//! Model-based property tests: ConsumeQueue against a `Vec` model, IndexService against a
//! `HashMap` model (with forced hash-slot collisions, real hash collisions and file rolling).

use std::collections::HashMap;

use ferric_store::consume_queue::{CQ_UNIT_SIZE, ConsumeQueue, CqUnit};
use ferric_store::index_file::{IndexConfig, IndexService, index_key_hash};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum CqOp {
    /// Append at the next offset.
    Next { size: i32, tags: i64 },
    /// Re-dispatch an existing offset (index into the model, modulo its length).
    Again(usize),
    /// Skip ahead, leaving a gap of blank units.
    Gap(u8),
    /// Reopen and recover.
    Reopen,
}

fn cq_op() -> impl Strategy<Value = CqOp> {
    prop_oneof![
        6 => (1..5000i32, any::<i64>()).prop_map(|(size, tags)| CqOp::Next { size, tags }),
        2 => any::<usize>().prop_map(CqOp::Again),
        1 => (1..9u8).prop_map(CqOp::Gap),
        1 => Just(CqOp::Reopen),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn consume_queue_matches_vec_model(
        start in 0..12i64,
        units_per_file in 1..6usize,
        ops in prop::collection::vec(cq_op(), 1..60),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("q");
        let size = units_per_file * CQ_UNIT_SIZE;
        let mut cq = ConsumeQueue::open(&dir, "T", 0, size).unwrap();
        // model[i] = unit at logical offset start + i (None = blank).
        let mut model: Vec<Option<CqUnit>> = Vec::new();
        let mut phy = 0i64;
        let mut next = start;
        for op in ops {
            match op {
                CqOp::Next { size, tags } => {
                    let unit = CqUnit { phy_offset: phy, size, tags_code: tags };
                    prop_assert!(cq.put_unit(next, phy, size, tags).unwrap());
                    model.push(Some(unit));
                    phy += i64::from(size);
                    next += 1;
                }
                CqOp::Again(i) => {
                    // Only offsets up to the last written unit are on disk.
                    let written = model.iter().rposition(Option::is_some).map_or(0, |p| p + 1);
                    if written > 0 {
                        let offset = start + (i % written) as i64;
                        prop_assert!(!cq.put_unit(offset, 1, 1, 1).unwrap());
                    }
                }
                CqOp::Gap(n) => {
                    if !model.is_empty() {
                        for _ in 0..n {
                            model.push(None);
                        }
                        next += i64::from(n);
                    }
                }
                CqOp::Reopen => {
                    drop(cq);
                    cq = ConsumeQueue::open(&dir, "T", 0, size).unwrap();
                    cq.recover().unwrap();
                    // A trailing gap is not on disk until the next unit is written.
                    while model.last() == Some(&None) {
                        model.pop();
                        next -= 1;
                    }
                }
            }
        }
        while model.last() == Some(&None) {
            model.pop();
            next -= 1;
        }
        let written = model.iter().any(Option::is_some);
        if !written {
            prop_assert_eq!(cq.units(0, usize::MAX).count(), 0);
            return Ok(());
        }
        prop_assert_eq!(cq.max_offset(), next);
        prop_assert_eq!(cq.min_offset(), start);
        for (i, expected) in model.iter().enumerate() {
            let got = cq.get_unit(start + i as i64).unwrap();
            prop_assert_eq!(got, expected.unwrap_or(CqUnit::BLANK));
        }
        let listed: Vec<(i64, CqUnit)> =
            cq.units(0, usize::MAX).map(|e| (e.queue_offset, e.unit)).collect();
        let expected: Vec<(i64, CqUnit)> = model
            .iter()
            .enumerate()
            .filter_map(|(i, u)| u.map(|u| (start + i as i64, u)))
            .collect();
        prop_assert_eq!(listed, expected);
        prop_assert_eq!(cq.max_phy_offset(), phy);
        drop(cq);
        let reopened = ConsumeQueue::open(&dir, "T", 0, size).unwrap();
        prop_assert_eq!(reopened.recover().unwrap(), next);
        prop_assert_eq!(reopened.min_offset(), start);
    }
}

/// Keys drawn from a small set; "Aa" and "BB" have the same Java hash.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..12u8).prop_map(|n| format!("k{n}")),
        Just("Aa".to_owned()),
        Just("BB".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn index_service_matches_hashmap_model(
        slots in 1..5u32,
        max_index in 2..7u32,
        messages in prop::collection::vec(prop::collection::vec(key(), 0..3), 1..24),
        reopen_at in any::<usize>(),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("index");
        let config = IndexConfig { max_hash_slot_num: slots, max_index_num: max_index, max_msgs_num_batch: 64 };
        let mut service = IndexService::open(&dir, config).unwrap();
        let mut model: HashMap<String, Vec<i64>> = HashMap::new();
        let reopen_at = reopen_at % messages.len();
        for (i, keys) in messages.iter().enumerate() {
            let phy = i as i64 * 100;
            let joined = keys.join(" ");
            let uniq = format!("U{i}");
            service.build_index("T", Some(&joined), Some(&uniq), phy, 1_000_000 + i as i64 * 1500).unwrap();
            model.entry(uniq).or_default().push(phy);
            for key in keys {
                let offsets = model.entry(key.clone()).or_default();
                if offsets.last() != Some(&phy) {
                    offsets.push(phy);
                }
            }
            if i == reopen_at {
                drop(service);
                service = IndexService::open(&dir, config).unwrap();
            }
        }
        let entries: usize = messages.iter().map(|k| k.len() + 1).sum();
        let per_file = (max_index - 1) as usize;
        prop_assert_eq!(service.files().len(), entries.div_ceil(per_file));
        for key in model.keys() {
            let hash = index_key_hash(&format!("T#{key}"));
            let mut expected: Vec<i64> = model
                .iter()
                .filter(|(k, _)| index_key_hash(&format!("T#{k}")) == hash)
                .flat_map(|(_, offsets)| offsets.iter().copied())
                .collect();
            expected.sort_unstable();
            expected.dedup();
            expected.truncate(64);
            let mut found = service.query_offsets("T", key, 64, 0, i64::MAX).phy_offsets;
            found.sort_unstable();
            prop_assert_eq!(found, expected, "key {}", key);
        }
        prop_assert!(service.query_offsets("T", "never-used", 64, 0, i64::MAX).phy_offsets.is_empty());
    }
}

#[test]
fn aa_and_bb_collide_in_java_hash() {
    assert_eq!(
        ferric_common::java_hash("Aa"),
        ferric_common::java_hash("BB")
    );
    assert_eq!(index_key_hash("T#Aa"), index_key_hash("T#BB"));
}
