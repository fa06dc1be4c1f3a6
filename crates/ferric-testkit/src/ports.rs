//! Free loopback ports: bind port 0, remember the number, release it.
//!
//! A port handed out once is never handed out again by this process, so tests running in
//! parallel threads of one test binary do not collide. Ports are released before the server
//! binds them, so another process could in theory take one in between; the kernel hands out
//! ephemeral ports round-robin, which makes that rare.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::sync::{Mutex, OnceLock};

use anyhow::{Context, Result, bail};

/// How many candidates to try before giving up.
const MAX_ATTEMPTS: usize = 200;

fn handed_out() -> &'static Mutex<HashSet<u16>> {
    static PORTS: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    PORTS.get_or_init(|| Mutex::new(HashSet::new()))
}

fn bind(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

/// Claims `ports` for this process if none was handed out before; all or nothing.
fn claim(ports: &[u16]) -> bool {
    let mut taken = match handed_out().lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    };
    if ports.iter().any(|port| taken.contains(port)) {
        return false;
    }
    taken.extend(ports.iter().copied());
    true
}

/// One free loopback port (for a NameServer, a dashboard, …).
pub fn reserve_port() -> Result<u16> {
    for _ in 0..MAX_ATTEMPTS {
        let listener = bind(0).context("binding 127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        drop(listener);
        if claim(&[port]) {
            return Ok(port);
        }
    }
    bail!("no free loopback port after {MAX_ATTEMPTS} attempts")
}

/// A broker `listenPort` whose companions are free too: `listenPort - 2` (the fast/VIP
/// channel) and `listenPort + 1` (HA).
pub fn reserve_broker_port() -> Result<u16> {
    for _ in 0..MAX_ATTEMPTS {
        let main = bind(0).context("binding 127.0.0.1:0")?;
        let port = main.local_addr()?.port();
        let (Some(fast_port), Some(ha_port)) = (port.checked_sub(2), port.checked_add(1)) else {
            continue;
        };
        if fast_port < 1024 {
            continue;
        }
        // Hold all three at once so the check is meaningful, then release them together.
        let (Ok(fast), Ok(ha)) = (bind(fast_port), bind(ha_port)) else {
            continue;
        };
        drop((main, fast, ha));
        if claim(&[fast_port, fast_port + 1, port, ha_port]) {
            return Ok(port);
        }
    }
    bail!("no free loopback port block (port-2, port, port+1) after {MAX_ATTEMPTS} attempts")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_and_bindable() -> Result<()> {
        let mut seen = HashSet::new();
        for _ in 0..20 {
            let port = reserve_port()?;
            assert!(seen.insert(port), "port {port} handed out twice");
            drop(bind(port)?);
        }
        Ok(())
    }

    #[test]
    fn broker_block_is_free() -> Result<()> {
        let port = reserve_broker_port()?;
        let listeners = [bind(port - 2)?, bind(port)?, bind(port + 1)?];
        assert_eq!(listeners.len(), 3);
        let again = reserve_broker_port()?;
        // The two blocks (port-2 ..= port+1) never overlap.
        assert!(again.abs_diff(port) >= 4, "{port} and {again} overlap");
        Ok(())
    }
}
