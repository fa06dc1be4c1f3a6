//! A blocking, one-shot remoting call over `std::net`, for readiness checks.
//!
//! It uses `ferric-protocol`'s sans-I/O frame codec directly, so it needs no async runtime and
//! can run from inside or outside one.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::BytesMut;
use ferric_protocol::{
    DEFAULT_MAX_FRAME_LENGTH, RemotingCommand, RequestCode, decode_frame, encode_frame,
};

/// Sends `request` on a fresh connection to `addr` and returns the first response frame.
pub fn blocking_invoke(
    addr: &str,
    request: &RemotingCommand,
    timeout: Duration,
) -> Result<RemotingCommand> {
    let deadline = Instant::now() + timeout;
    let socket: SocketAddr = addr
        .parse()
        .with_context(|| format!("address {addr:?} is not ip:port"))?;
    let mut stream = TcpStream::connect_timeout(&socket, timeout.max(Duration::from_millis(1)))
        .with_context(|| format!("connecting to {addr}"))?;
    let mut out = BytesMut::new();
    encode_frame(request, &mut out).context("encoding request")?;
    stream.set_write_timeout(Some(timeout.max(Duration::from_millis(1))))?;
    stream.write_all(&out).context("writing request")?;
    let mut input = BytesMut::new();
    let mut chunk = [0_u8; 8192];
    loop {
        if let Some(frame) = decode_frame(&mut input, DEFAULT_MAX_FRAME_LENGTH)? {
            if frame.is_response() && frame.opaque == request.opaque {
                return Ok(frame);
            }
            continue;
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            bail!("no response from {addr} within {timeout:?}");
        }
        stream.set_read_timeout(Some(remaining))?;
        let read = stream
            .read(&mut chunk)
            .with_context(|| format!("reading response from {addr}"))?;
        if read == 0 {
            bail!("{addr} closed the connection without answering");
        }
        input.extend_from_slice(&chunk[..read]);
    }
}

/// Succeeds when `addr` answers any remoting request (any response code counts).
pub fn probe_remoting(addr: &str, timeout: Duration) -> Result<()> {
    let mut request = RemotingCommand::request(RequestCode::GET_ROUTEINFO_BY_TOPIC.value());
    request.opaque = 1;
    request.set_ext("topic", "TBW102");
    blocking_invoke(addr, &request, timeout).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn answers_from_a_fake_server() -> Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?.to_string();
        let server = std::thread::spawn(move || -> Result<()> {
            let (mut socket, _) = listener.accept()?;
            let mut input = BytesMut::new();
            let mut chunk = [0_u8; 1024];
            let request = loop {
                if let Some(frame) = decode_frame(&mut input, DEFAULT_MAX_FRAME_LENGTH)? {
                    break frame;
                }
                let read = socket.read(&mut chunk)?;
                input.extend_from_slice(&chunk[..read]);
            };
            let response = request.response_to(17, Some("No topic route info".into()));
            let mut out = BytesMut::new();
            encode_frame(&response, &mut out)?;
            socket.write_all(&out)?;
            Ok(())
        });
        probe_remoting(&addr, Duration::from_secs(5))?;
        server
            .join()
            .map_err(|_| anyhow::anyhow!("server panicked"))??;
        Ok(())
    }

    #[test]
    fn closed_port_fails() -> Result<()> {
        let port = crate::ports::reserve_port()?;
        let result = probe_remoting(&format!("127.0.0.1:{port}"), Duration::from_millis(500));
        assert!(result.is_err());
        Ok(())
    }
}
