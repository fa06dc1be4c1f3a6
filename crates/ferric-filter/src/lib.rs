//! Tag matching and the SQL92 message filter (being built).
