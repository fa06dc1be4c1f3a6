//! Feeds arbitrary bytes to the fastjson-tolerant JSON reader and to the typed bodies a broker
//! or NameServer reads from peers (heartbeats, lock requests, routes, REGISTER_BROKER in its
//! plain and zlib-compressed forms). None of them may panic or allocate without bound.
#![no_main]

use ferric_protocol::body::{
    HeartbeatData, LockBatchRequestBody, RegisterBrokerBody, TopicRouteData,
};
use ferric_protocol::fastjson;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fastjson::parse(data);
    let _ = fastjson::from_slice::<HeartbeatData>(data);
    let _ = fastjson::from_slice::<LockBatchRequestBody>(data);
    let _ = fastjson::from_slice::<TopicRouteData>(data);
    let _ = RegisterBrokerBody::from_json(data);
    let _ = RegisterBrokerBody::decode_compressed(data);
});
