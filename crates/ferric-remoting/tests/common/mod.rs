//! Helpers shared by the loopback tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use ferric_protocol::{RemotingCommand, decode_frame, encode_frame};
use ferric_remoting::{ClientConfig, RemotingError, RemotingServer, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Upper bound for anything a test waits for; generous so a loaded machine does not flake.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A server running in this process on a loopback port.
pub struct RunningServer {
    pub server: RemotingServer,
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), RemotingError>>>,
}

impl RunningServer {
    pub async fn start(server: RemotingServer) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        Self::start_on(server, listener)
    }

    pub fn start_on(server: RemotingServer, listener: TcpListener) -> anyhow::Result<Self> {
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = server.clone();
        let task = tokio::spawn(async move {
            serving
                .serve(listener, async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Self {
            server,
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    pub fn addr_string(&self) -> String {
        self.addr.to_string()
    }

    /// Resolves the shutdown future and waits for `serve` to return.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(PATIENCE, task).await???;
        }
        Ok(())
    }
}

pub fn server_config() -> ServerConfig {
    ServerConfig {
        shutdown_grace: Duration::from_secs(2),
        ..ServerConfig::default()
    }
}

pub fn client_config() -> ClientConfig {
    ClientConfig {
        connect_timeout: Duration::from_secs(2),
        shutdown_grace: Duration::from_secs(2),
        ..ClientConfig::default()
    }
}

/// Writes one command as a frame on a raw socket.
pub async fn write_command(stream: &mut TcpStream, cmd: &RemotingCommand) -> anyhow::Result<()> {
    let mut buf = BytesMut::new();
    encode_frame(cmd, &mut buf)?;
    stream.write_all(&buf).await?;
    Ok(())
}

/// Reads frames from a raw socket; `Ok(None)` when the peer closed the connection.
pub struct RawReader {
    pub buf: BytesMut,
}

impl RawReader {
    pub fn new() -> Self {
        Self {
            buf: BytesMut::new(),
        }
    }

    pub async fn next(
        &mut self,
        stream: &mut TcpStream,
    ) -> anyhow::Result<Option<RemotingCommand>> {
        loop {
            if let Some(cmd) = decode_frame(&mut self.buf, 16 * 1024 * 1024)? {
                return Ok(Some(cmd));
            }
            let mut chunk = [0u8; 4096];
            let read = match stream.read(&mut chunk).await {
                Ok(read) => read,
                Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => 0,
                Err(error) => return Err(error.into()),
            };
            if read == 0 {
                return Ok(None);
            }
            self.buf.extend_from_slice(&chunk[..read]);
        }
    }
}

/// Waits until the peer closes `stream` (EOF or reset), discarding anything it sends.
pub async fn expect_closed(stream: &mut TcpStream) -> anyhow::Result<()> {
    let mut chunk = [0u8; 4096];
    tokio::time::timeout(PATIENCE, async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) => return Ok(()),
                Ok(_) => continue,
                Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => return Ok(()),
                Err(error) => return Err(anyhow::Error::from(error)),
            }
        }
    })
    .await?
}

/// Polls `condition` every few milliseconds until it holds (bounded by [`PATIENCE`]).
pub async fn wait_until(mut condition: impl FnMut() -> bool) -> anyhow::Result<()> {
    tokio::time::timeout(PATIENCE, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await?;
    Ok(())
}
