//! Lite pull consumer.
