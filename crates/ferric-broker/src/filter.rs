//! Consumer filters on the pull path: tag codes from the ConsumeQueue, and SQL92 expressions
//! (`ferric-filter`) evaluated over a stored record's properties (including `TAGS`).
//!
//! [`ConsumerFilterManager`] compiles SQL92 subscriptions once and caches them per
//! `(group, topic)` with the subscription version and expression they were compiled from:
//! * heartbeat-registered subscriptions are compiled at the heartbeat; one that does not
//!   compile has no filter data, so its pulls get FILTER_DATA_NOT_EXIST (27) like RocketMQ,
//!   while the group's other subscriptions keep working;
//! * pulls with `FLAG_SUBSCRIPTION` carry their own expression; a failure to compile is
//!   SUBSCRIPTION_PARSE_FAILED (23).
//!
//! Compilation happens whatever `enablePropertyFilter` says (as in RocketMQ); the pull path
//! refuses SQL92 with SYSTEM_ERROR afterwards when the property filter is off.
//!
//! The filter data is kept in memory only (`config/consumerFilter.json` is not written): it is
//! rebuilt from the next heartbeat or pull after a restart.
//!
//! Tag hash collisions: the broker compares tag hash codes only; two tags with the same Java
//! hash pass the broker filter and the client re-checks the tag string, as in RocketMQ.

use std::collections::HashMap;
use std::sync::Arc;

use ferric_common::record::{Parsed, parse_record};
use ferric_filter::{ExpressionType, FilterError, Sql92Filter};
use ferric_protocol::body::SubscriptionData;
use parking_lot::Mutex;

/// A compiled (or refused) SQL92 subscription.
#[derive(Debug, Clone)]
struct FilterEntry {
    sub_version: i64,
    expression: String,
    compiled: Result<Arc<Sql92Filter>, FilterError>,
}

type FilterTable = HashMap<(String, String), FilterEntry>;

/// Compiled SQL92 filters of registered and pull-carried subscriptions.
#[derive(Debug, Default)]
pub struct ConsumerFilterManager {
    registered: Mutex<FilterTable>,
    carried: Mutex<FilterTable>,
}

/// Whether a subscription is SQL92.
pub fn is_sql92(subscription: &SubscriptionData) -> bool {
    matches!(
        ExpressionType::parse(Some(subscription.expression_type.as_str())),
        Ok(ExpressionType::Sql92)
    )
}

/// Whether an expression type is the tag type (`TAG`, empty).
pub fn is_tag_type(expression_type: &str) -> bool {
    matches!(
        ExpressionType::parse(Some(expression_type)),
        Ok(ExpressionType::Tag)
    )
}

/// Compiles `expression` for `(group, topic)` unless the cached entry was compiled from the
/// same expression and version (a refusal is cached too).
fn compile_into(
    table: &Mutex<FilterTable>,
    group: &str,
    topic: &str,
    expression: &str,
    sub_version: i64,
) -> Result<Arc<Sql92Filter>, FilterError> {
    let key = (group.to_owned(), topic.to_owned());
    if let Some(entry) = table.lock().get(&key)
        && entry.sub_version == sub_version
        && entry.expression == expression
    {
        return entry.compiled.clone();
    }
    let compiled = if expression.trim().is_empty() {
        Err(FilterError::EmptySql92)
    } else {
        Sql92Filter::compile(expression).map(Arc::new)
    };
    table.lock().insert(
        key,
        FilterEntry {
            sub_version,
            expression: expression.to_owned(),
            compiled: compiled.clone(),
        },
    );
    compiled
}

impl ConsumerFilterManager {
    /// Compiles the SQL92 subscriptions of a heartbeat (tag subscriptions are ignored).
    pub fn register(&self, group: &str, subscriptions: &[SubscriptionData]) {
        for subscription in subscriptions.iter().filter(|s| is_sql92(s)) {
            if let Err(error) = self.registered(group, subscription) {
                tracing::warn!(%group, topic = %subscription.topic, expression = %subscription.sub_string, %error, "sql92 subscription does not compile");
            }
        }
    }

    /// The compiled filter of a registered SQL92 subscription (compiled now if the heartbeat
    /// did not); an error means the subscription has no filter data.
    pub fn registered(
        &self,
        group: &str,
        subscription: &SubscriptionData,
    ) -> Result<Arc<Sql92Filter>, FilterError> {
        compile_into(
            &self.registered,
            group,
            &subscription.topic,
            &subscription.sub_string,
            subscription.sub_version,
        )
    }

    /// Compiles (or reuses) the expression a pull carries.
    pub fn carried(
        &self,
        group: &str,
        topic: &str,
        expression: &str,
        sub_version: i64,
    ) -> Result<Arc<Sql92Filter>, FilterError> {
        compile_into(&self.carried, group, topic, expression, sub_version)
    }

    /// Drops the filter data of a group.
    pub fn remove_group(&self, group: &str) {
        self.registered.lock().retain(|(g, _), _| g != group);
        self.carried.lock().retain(|(g, _), _| g != group);
    }
}

/// The store-side filter of one pull: tag codes, then (for SQL92) the record's properties.
#[derive(Debug, Clone, Default)]
pub struct PullFilter {
    /// Accepted tag codes; `None` accepts every unit.
    pub tag_codes: Option<Vec<i32>>,
    /// SQL92 expression evaluated over the stored properties.
    pub sql92: Option<Arc<Sql92Filter>>,
}

impl ferric_store::MessageFilter for PullFilter {
    fn matches_tags_code(&self, tags_code: i64) -> bool {
        match &self.tag_codes {
            None => true,
            // RocketMQ compares `(int) tagsCode` with the code set.
            Some(codes) => codes.contains(&(tags_code as i32)),
        }
    }

    fn matches_record(&self, record: &[u8]) -> bool {
        let Some(sql92) = &self.sql92 else {
            return true;
        };
        match parse_record(record) {
            Ok(Parsed::Message(view)) => sql92.evaluate(&view.decode_properties()),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use ferric_common::message::MessageExt;
    use ferric_common::record::encode_record;
    use ferric_store::MessageFilter as _;

    use super::*;

    fn record(color: &str, num: &str) -> Vec<u8> {
        let mut message = MessageExt {
            topic: "T".to_owned(),
            ..MessageExt::default()
        };
        message.properties.insert("TAGS", "TagA");
        message.properties.insert("fxColor", color);
        message.properties.insert("fxNum", num);
        let mut buf = BytesMut::new();
        encode_record(&message, &mut buf).expect("encodes");
        buf.to_vec()
    }

    #[test]
    fn sql92_filters_records_by_properties() {
        let manager = ConsumerFilterManager::default();
        let compiled = manager
            .carried("G", "T", "fxColor = 'red' AND fxNum > 1", 1)
            .expect("compiles");
        let again = manager
            .carried("G", "T", "fxColor = 'red' AND fxNum > 1", 1)
            .expect("cached");
        assert!(Arc::ptr_eq(&compiled, &again));
        let filter = PullFilter {
            tag_codes: None,
            sql92: Some(compiled),
        };
        assert!(filter.matches_record(&record("red", "2")));
        assert!(!filter.matches_record(&record("red", "1")));
        assert!(!filter.matches_record(&record("blue", "5")));
        assert!(!filter.matches_record(b"not a record"));
        assert!(manager.carried("G", "T", "fxColor = = 'red'", 2).is_err());
    }

    #[test]
    fn bad_registered_subscriptions_have_no_filter_data() {
        let manager = ConsumerFilterManager::default();
        let good = SubscriptionData {
            topic: "A".to_owned(),
            sub_string: "a > 1".to_owned(),
            expression_type: "SQL92".to_owned(),
            sub_version: 5,
            ..SubscriptionData::default()
        };
        let bad = SubscriptionData {
            topic: "B".to_owned(),
            sub_string: "a >".to_owned(),
            ..good.clone()
        };
        manager.register("G", &[good.clone(), bad.clone()]);
        assert!(manager.registered("G", &good).is_ok());
        assert!(manager.registered("G", &bad).is_err());
        assert!(is_tag_type("") && is_tag_type("TAG") && !is_tag_type("SQL92"));
    }
}
