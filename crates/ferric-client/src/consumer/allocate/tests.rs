use super::*;
use proptest::prelude::*;
use std::collections::HashMap;

fn queues(brokers: &[&str], per: i32) -> Vec<MessageQueue> {
    brokers
        .iter()
        .flat_map(|b| (0..per).map(move |q| MessageQueue::new("T", *b, q)))
        .collect()
}

fn consumers(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("10.0.0.{i}@c{i}")).collect()
}

fn owners(
    strategy: &dyn AllocateStrategy,
    qs: &[MessageQueue],
    cs: &[String],
) -> HashMap<MessageQueue, usize> {
    let mut count = HashMap::new();
    for c in cs {
        for mq in strategy.allocate(c, qs, cs) {
            *count.entry(mq).or_insert(0) += 1;
        }
    }
    count
}

#[test]
fn averagely_matches_java_blocks() {
    let qs = queues(&["broker-a"], 8);
    let cs = consumers(3);
    let ids = |c: &str| -> Vec<i32> {
        Averagely
            .allocate(c, &qs, &cs)
            .iter()
            .map(|q| q.queue_id)
            .collect()
    };
    assert_eq!(ids(&cs[0]), vec![0, 1, 2]);
    assert_eq!(ids(&cs[1]), vec![3, 4, 5]);
    assert_eq!(ids(&cs[2]), vec![6, 7]);
    assert!(Averagely.allocate("stranger", &qs, &cs).is_empty());
}

#[test]
fn circle_deals_round_robin() {
    let qs = queues(&["broker-a"], 5);
    let cs = consumers(2);
    let ids: Vec<i32> = AveragelyByCircle
        .allocate(&cs[1], &qs, &cs)
        .iter()
        .map(|q| q.queue_id)
        .collect();
    assert_eq!(ids, vec![1, 3]);
}

#[test]
fn more_consumers_than_queues() {
    let qs = queues(&["broker-a"], 2);
    let cs = consumers(5);
    let strategies: [&dyn AllocateStrategy; 3] =
        [&Averagely, &AveragelyByCircle, &ConsistentHash::default()];
    for s in strategies {
        let owned = owners(s, &qs, &cs);
        assert_eq!(owned.len(), 2, "{}", s.name());
        assert!(owned.values().all(|n| *n == 1));
    }
}

#[test]
fn machine_room_takes_only_its_rooms() {
    let qs = queues(&["hz@broker-a", "sh@broker-b"], 4);
    let cs = consumers(3);
    let strategy = ByMachineRoom {
        consume_idcs: HashSet::from(["hz".to_owned()]),
    };
    let owned = owners(&strategy, &qs, &cs);
    assert_eq!(owned.len(), 4);
    assert!(owned.keys().all(|q| q.broker_name.starts_with("hz@")));
    assert!(owned.values().all(|n| *n == 1));
}

fn strategy_by_index(i: usize) -> Box<dyn AllocateStrategy> {
    match i {
        0 => Box::new(Averagely),
        1 => Box::new(AveragelyByCircle),
        2 => Box::new(ConsistentHash::default()),
        _ => Box::new(ByMachineRoom {
            consume_idcs: HashSet::from(["r0".to_owned(), "r1".to_owned()]),
        }),
    }
}

proptest! {
    #[test]
    fn every_queue_exactly_once_and_permutation_stable(
        brokers in 1usize..4,
        per in 0i32..17,
        n in 1usize..9,
        which in 0usize..4,
        seed in any::<u64>(),
    ) {
        let names: Vec<String> = (0..brokers).map(|b| format!("r{b}@broker-{b}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let qs = queues(&refs, per);
        let cs = consumers(n);
        let strategy = strategy_by_index(which);
        let owned = owners(strategy.as_ref(), &qs, &cs);
        let expected: Vec<&MessageQueue> = qs.iter().filter(|q| {
            which != 3 || q.broker_name.starts_with("r0@") || q.broker_name.starts_with("r1@")
        }).collect();
        prop_assert_eq!(owned.len(), expected.len());
        prop_assert!(owned.values().all(|count| *count == 1));
        // Even split for the averaging strategies.
        if which < 2 && !qs.is_empty() {
            let sizes: Vec<usize> = cs.iter().map(|c| strategy.allocate(c, &qs, &cs).len()).collect();
            let (min, max) = (sizes.iter().min().copied().unwrap_or(0), sizes.iter().max().copied().unwrap_or(0));
            prop_assert!(max - min <= 1);
        }
        // Same answer whatever the input order.
        let mut shuffled_q = qs.clone();
        let mut shuffled_c = cs.clone();
        let rotate_q = (seed as usize) % shuffled_q.len().max(1);
        shuffled_q.rotate_left(rotate_q);
        shuffled_q.reverse();
        let rotate_c = (seed >> 8) as usize % shuffled_c.len();
        shuffled_c.rotate_left(rotate_c);
        for c in &cs {
            prop_assert_eq!(strategy.allocate(c, &qs, &cs), strategy.allocate(c, &shuffled_q, &shuffled_c));
        }
    }
}
