//! Small list and table bodies (§3.5, §3.7), heartbeat (§3.6), connections. The heartbeat types
//! read fields as leniently as fastjson does (see [`super::lenient`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::lenient;
use crate::fastjson::MessageQueueBody;

/// `{"topicList":[…]}` plus `brokerAddr` when set.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicList {
    pub topic_list: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker_addr: Option<String>,
}

/// `{"table":{…}}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct KvTable {
    pub table: BTreeMap<String, String>,
}

/// `{"groupList":[…]}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GroupList {
    pub group_list: Vec<String>,
}

/// GET_CONSUMER_LIST_BY_GROUP response body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumerIdList {
    pub consumer_id_list: Vec<String>,
}

/// NameServer `kvConfig.json`: namespace → key → value.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct KvConfigFile {
    pub config_table: BTreeMap<String, BTreeMap<String, String>>,
}

/// One subscription of a consumer group.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionData {
    #[serde(deserialize_with = "lenient::boolean")]
    pub class_filter_mode: bool,
    #[serde(deserialize_with = "lenient::string")]
    pub topic: String,
    #[serde(deserialize_with = "lenient::string")]
    pub sub_string: String,
    #[serde(deserialize_with = "lenient::list")]
    pub tags_set: Vec<String>,
    #[serde(deserialize_with = "lenient::int_list")]
    pub code_set: Vec<i32>,
    /// A number from Java clients, a decimal string from the C++ client.
    #[serde(deserialize_with = "lenient::long")]
    pub sub_version: i64,
    /// `TAG` or `SQL92`; empty (absent, as the C++ client sends it) means `TAG`.
    #[serde(deserialize_with = "lenient::string")]
    pub expression_type: String,
}

/// A producer group in a heartbeat.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProducerData {
    #[serde(deserialize_with = "lenient::string")]
    pub group_name: String,
}

/// A consumer group in a heartbeat.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumerData {
    #[serde(deserialize_with = "lenient::string")]
    pub group_name: String,
    /// `CONSUME_ACTIVELY`, `CONSUME_PASSIVELY`, `CONSUME_POP`; read from the name or, as the C++
    /// client writes it, the ordinal.
    #[serde(deserialize_with = "lenient::consume_type")]
    pub consume_type: String,
    /// `BROADCASTING`, `CLUSTERING` (name or ordinal).
    #[serde(deserialize_with = "lenient::message_model")]
    pub message_model: String,
    /// A `ConsumeFromWhere` name (name or ordinal on the wire).
    #[serde(deserialize_with = "lenient::consume_from_where")]
    pub consume_from_where: String,
    #[serde(deserialize_with = "lenient::list")]
    pub subscription_data_set: Vec<SubscriptionData>,
    #[serde(deserialize_with = "lenient::boolean")]
    pub unit_mode: bool,
}

/// HEART_BEAT body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HeartbeatData {
    #[serde(rename = "clientID", deserialize_with = "lenient::string")]
    pub client_id: String,
    #[serde(deserialize_with = "lenient::list")]
    pub producer_data_set: Vec<ProducerData>,
    #[serde(deserialize_with = "lenient::list")]
    pub consumer_data_set: Vec<ConsumerData>,
    /// 5.x.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heartbeat_fingerprint: Option<i32>,
    /// 5.x.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub without_sub: Option<bool>,
}

/// LOCK_BATCH_MQ / UNLOCK_BATCH_MQ request body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LockBatchRequestBody {
    pub consumer_group: String,
    pub client_id: String,
    /// 5.x.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub only_this_broker: Option<bool>,
    pub mq_set: Vec<MessageQueueBody>,
}

/// UNLOCK_BATCH_MQ request body (same shape).
pub type UnlockBatchRequestBody = LockBatchRequestBody;

/// LOCK_BATCH_MQ response body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LockBatchResponseBody {
    #[serde(rename = "lockOKMQSet")]
    pub lock_ok_mq_set: Vec<MessageQueueBody>,
}

/// One client connection.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Connection {
    pub client_id: String,
    pub client_addr: String,
    /// LanguageCode name.
    pub language: String,
    pub version: i32,
}

/// GET_CONSUMER_CONNECTION_LIST body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumerConnection {
    pub connection_set: Vec<Connection>,
    pub subscription_table: BTreeMap<String, SubscriptionData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consume_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consume_from_where: Option<String>,
}

/// GET_PRODUCER_CONNECTION_LIST body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProducerConnection {
    pub connection_set: Vec<Connection>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fastjson::from_slice;

    /// The HEART_BEAT body of PyPI `rocketmq` 0.4.4 (rocketmq-client-cpp 2.x) for a push
    /// consumer subscribed to `TagA || TagB` plus a producer, byte for byte, trailing newline
    /// included.
    const CPP_HEARTBEAT: &[u8] = b"{\"clientID\":\"24575-127.0.0.1@DEFAULT\",\"consumerDataSet\":[{\"consumeFromWhere\":0,\"consumeType\":1,\"groupName\":\"cg_cap2\",\"messageModel\":1,\"subscriptionDataSet\":[{\"subString\":\"*\",\"subVersion\":\"1795315763488\",\"topic\":\"%RETRY%cg_cap2\"},{\"codeSet\":[0,0],\"subString\":\"TagA || TagB\",\"subVersion\":\"1795315763488\",\"tagsSet\":[\"TagA\",\"TagB\"],\"topic\":\"TopicCap\"}]}],\"producerDataSet\":[{\"groupName\":\"pg_cap\"}]}\n";

    #[test]
    fn reads_the_cpp_client_heartbeat() {
        let data: HeartbeatData = from_slice(CPP_HEARTBEAT).expect("C++ heartbeat parses");
        assert_eq!(data.client_id, "24575-127.0.0.1@DEFAULT");
        assert_eq!(
            data.producer_data_set,
            vec![ProducerData {
                group_name: "pg_cap".to_owned()
            }]
        );
        let [consumer] = data.consumer_data_set.as_slice() else {
            panic!("one consumer expected: {:?}", data.consumer_data_set);
        };
        assert_eq!(consumer.group_name, "cg_cap2");
        assert_eq!(consumer.consume_type, "CONSUME_PASSIVELY");
        assert_eq!(consumer.message_model, "CLUSTERING");
        assert_eq!(consumer.consume_from_where, "CONSUME_FROM_LAST_OFFSET");
        assert!(!consumer.unit_mode);
        let [retry, tags] = consumer.subscription_data_set.as_slice() else {
            panic!("two subscriptions expected: {consumer:?}");
        };
        assert_eq!(retry.topic, "%RETRY%cg_cap2");
        assert_eq!(retry.sub_string, "*");
        assert_eq!(retry.sub_version, 1_795_315_763_488);
        assert!(retry.tags_set.is_empty() && retry.code_set.is_empty());
        assert_eq!(tags.topic, "TopicCap");
        assert_eq!(tags.sub_string, "TagA || TagB");
        assert_eq!(tags.tags_set, vec!["TagA", "TagB"]);
        assert_eq!(tags.code_set, vec![0, 0]);
        assert_eq!(tags.expression_type, "");
        assert_eq!(data.heartbeat_fingerprint, None);
    }

    #[test]
    fn reads_the_java_heartbeat_by_name() {
        let body = br#"{"clientID":"10.0.0.5@12345","consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_TIMESTAMP","consumeType":"CONSUME_ACTIVELY","groupName":"cg1","messageModel":"BROADCASTING","subscriptionDataSet":[{"classFilterMode":false,"codeSet":[2598919],"expressionType":"TAG","subString":"TagA","subVersion":1700000000000,"tagsSet":["TagA"],"topic":"TopicTest"}],"unitMode":true}],"heartbeatFingerprint":0,"producerDataSet":[{"groupName":"CLIENT_INNER_PRODUCER"}],"withoutSub":false}"#;
        let data: HeartbeatData = from_slice(body).expect("Java heartbeat parses");
        let consumer = &data.consumer_data_set[0];
        assert_eq!(consumer.consume_type, "CONSUME_ACTIVELY");
        assert_eq!(consumer.message_model, "BROADCASTING");
        assert_eq!(consumer.consume_from_where, "CONSUME_FROM_TIMESTAMP");
        assert!(consumer.unit_mode);
        let subscription = &consumer.subscription_data_set[0];
        assert_eq!(subscription.sub_version, 1_700_000_000_000);
        assert_eq!(subscription.code_set, vec![2_598_919]);
        assert_eq!(subscription.expression_type, "TAG");
        assert_eq!(data.heartbeat_fingerprint, Some(0));
        assert_eq!(data.without_sub, Some(false));
    }

    #[test]
    fn reads_ordinals_nulls_and_text_numbers() {
        let body = br#"{"clientID":null,"producerDataSet":null,"consumerDataSet":[{"groupName":"g","consumeType":2,"messageModel":0,"consumeFromWhere":5,"unitMode":"true","subscriptionDataSet":[{"topic":"T","subString":"a","subVersion":" 42 ","codeSet":["97"],"tagsSet":null,"classFilterMode":null}]},{"groupName":"h","consumeType":9}]}"#;
        let data: HeartbeatData = from_slice(body).expect("lenient heartbeat parses");
        assert_eq!(data.client_id, "");
        assert!(data.producer_data_set.is_empty());
        let consumer = &data.consumer_data_set[0];
        assert_eq!(consumer.consume_type, "CONSUME_POP");
        assert_eq!(consumer.message_model, "BROADCASTING");
        assert_eq!(consumer.consume_from_where, "CONSUME_FROM_TIMESTAMP");
        assert!(consumer.unit_mode);
        let subscription = &consumer.subscription_data_set[0];
        assert_eq!(subscription.sub_version, 42);
        assert_eq!(subscription.code_set, vec![97]);
        assert!(subscription.tags_set.is_empty());
        assert!(!subscription.class_filter_mode);
        assert_eq!(data.consumer_data_set[1].consume_type, "9");
    }

    #[test]
    fn refuses_values_of_the_wrong_shape() {
        for body in [
            &br#"{"consumerDataSet":[{"consumeType":{"a":1}}]}"#[..],
            br#"{"consumerDataSet":[{"subscriptionDataSet":[{"subVersion":"soon"}]}]}"#,
            br#"{"consumerDataSet":[{"subscriptionDataSet":[{"codeSet":[4294967296]}]}]}"#,
        ] {
            assert!(from_slice::<HeartbeatData>(body).is_err(), "{body:?}");
        }
    }

    #[test]
    fn writes_heartbeats_as_java_does() {
        let data: HeartbeatData = from_slice(CPP_HEARTBEAT).expect("C++ heartbeat parses");
        let text = crate::fastjson::to_vec(&data, crate::fastjson::JsonStyle::Fastjson)
            .expect("serializes");
        let text = String::from_utf8(text).expect("utf-8");
        assert!(
            text.contains(r#""consumeType":"CONSUME_PASSIVELY""#),
            "{text}"
        );
        assert!(text.contains(r#""subVersion":1795315763488"#), "{text}");
    }
}
