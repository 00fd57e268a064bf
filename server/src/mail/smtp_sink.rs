//! A small SMTP server for tests: it speaks enough of RFC 5321 for a real client (lettre) to
//! deliver to it over a socket, keeps what it receives, and can be told to refuse mail
//! temporarily (451) or permanently (550), or to be slow to acknowledge a message.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One message as the sink received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope: `MAIL FROM` and every `RCPT TO`.
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent after `DATA`, dot-stuffing undone.
    pub data: Vec<u8>,
}

/// How the sink answers `RCPT TO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accept,
    /// `451`: the client should try again later.
    TryLater,
    /// `550`: the client must not try again.
    Refuse,
}

#[derive(Debug, Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    answer: Mutex<Option<Answer>>,
    /// How long a received message waits before it is acknowledged.
    delay: Mutex<Duration>,
}

/// A running sink; it stops when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    /// Listens on a port of 127.0.0.1 the kernel picks.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Listens on `addr`, for a test that chose the port before the sink could exist.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let serving = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = serving.clone();
                tokio::spawn(async move {
                    // A client that hangs up mid-dialogue is simply gone.
                    let _ = session(stream, &shared).await;
                });
            }
        });
        Ok(Self { addr, shared, task })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn answer(&self, answer: Answer) {
        if let Ok(mut slot) = self.shared.answer.lock() {
            *slot = Some(answer);
        }
    }

    /// Keeps each message (it counts as received) and waits `delay` before answering `250`,
    /// as a slow server would: the window in which a client that dies has delivered a message
    /// without learning so.
    pub fn delay_replies(&self, delay: Duration) {
        if let Ok(mut slot) = self.shared.delay.lock() {
            *slot = delay;
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared
            .received
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Waits until at least `count` messages have arrived, or `timeout` passes; returns what
    /// arrived either way.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let received = self.received();
            if received.len() >= count || Instant::now() >= deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn session(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    let mut from = String::new();
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" | "NOOP" => b"250 ok\r\n",
            "RSET" => {
                from.clear();
                to.clear();
                b"250 ok\r\n"
            }
            "MAIL" => {
                from = address(&command);
                to.clear();
                b"250 ok\r\n"
            }
            "RCPT" => {
                let answer = shared
                    .answer
                    .lock()
                    .ok()
                    .and_then(|a| *a)
                    .unwrap_or(Answer::Accept);
                match answer {
                    Answer::Accept => {
                        to.push(address(&command));
                        b"250 ok\r\n"
                    }
                    Answer::TryLater => b"451 4.3.0 try again later\r\n",
                    Answer::Refuse => b"550 5.1.1 no such mailbox\r\n",
                }
            }
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let data = read_data(&mut lines).await?;
                if let Ok(mut received) = shared.received.lock() {
                    received.push(Received {
                        from: from.clone(),
                        to: std::mem::take(&mut to),
                        data,
                    });
                }
                let delay = shared.delay.lock().map(|d| *d).unwrap_or_default();
                tokio::time::sleep(delay).await;
                b"250 queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// The address inside `MAIL FROM:<a@b>` or `RCPT TO:<a@b>`.
fn address(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}

async fn read_data(
    lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await? == 0 {
            return Ok(data);
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(data);
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
        data.extend_from_slice(unstuffed);
    }
}
