//! Permission bits of topics and brokers (`PermName`).
//!
//! | bit | value | name |
//! |---|---|---|
//! | 3 | 8 | PERM_PRIORITY |
//! | 2 | 4 | PERM_READ |
//! | 1 | 2 | PERM_WRITE |
//! | 0 | 1 | PERM_INHERIT (topic may serve as an auto-create template) |

/// Priority bit.
pub const PERM_PRIORITY: i32 = 0x1 << 3;
/// Read bit.
pub const PERM_READ: i32 = 0x1 << 2;
/// Write bit.
pub const PERM_WRITE: i32 = 0x1 << 1;
/// Inherit bit (auto-create template, e.g. `TBW102` has perm 7).
pub const PERM_INHERIT: i32 = 0x1;

/// True if the read bit is set.
pub fn is_readable(perm: i32) -> bool {
    perm & PERM_READ == PERM_READ
}

/// True if the write bit is set.
pub fn is_writeable(perm: i32) -> bool {
    perm & PERM_WRITE == PERM_WRITE
}

/// True if the inherit bit is set.
pub fn is_inherited(perm: i32) -> bool {
    perm & PERM_INHERIT == PERM_INHERIT
}

/// Java `PermName.perm2String`: three characters `R`, `W`, `X` (inherit),
/// each replaced by `-` when the bit is clear; 6 gives `"RW-"`.
pub fn perm_to_string(perm: i32) -> String {
    let mut out = String::with_capacity(3);
    out.push(if is_readable(perm) { 'R' } else { '-' });
    out.push(if is_writeable(perm) { 'W' } else { '-' });
    out.push(if is_inherited(perm) { 'X' } else { '-' });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perm_strings() {
        assert_eq!(perm_to_string(6), "RW-");
        assert_eq!(perm_to_string(7), "RWX");
        assert_eq!(perm_to_string(4), "R--");
        assert_eq!(perm_to_string(2), "-W-");
        assert_eq!(perm_to_string(0), "---");
        assert!(is_readable(PERM_READ | PERM_WRITE));
        assert!(!is_writeable(PERM_READ));
        assert!(is_inherited(7));
        assert!(!is_inherited(6));
    }
}
