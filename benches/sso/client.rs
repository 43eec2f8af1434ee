//! The load generator's HTTP client: one plain HTTP/1.1 keep-alive connection per simulated user, as a
//! browser or an app's back end holds one. Nothing is pooled, retried or followed: each request is one
//! round trip on that connection, and the caller reads status, headers and body as they came.

use std::net::SocketAddr;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, HOST, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// An answer, whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// A header's value as text, if present.
    pub fn header(&self, name: HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as text, for errors.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).chars().take(300).collect()
    }
}

/// One keep-alive connection to the server; reconnects if the server closed it.
pub struct Http {
    addr: SocketAddr,
    host: HeaderValue,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Http {
    pub fn new(addr: SocketAddr) -> Http {
        let host = HeaderValue::from_str(&addr.to_string()).expect("an address is a valid Host header");
        Http { addr, host, sender: None }
    }

    async fn connect(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, String> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            let stream = TcpStream::connect(self.addr).await.map_err(|e| format!("connect {}: {e}", self.addr))?;
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            let (sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
            tokio::spawn(connection);
            self.sender = Some(sender);
        }
        Ok(self.sender.as_mut().expect("connected just above"))
    }

    pub async fn get(&mut self, path: &str, headers: &[(HeaderName, &str)]) -> Result<Reply, String> {
        self.send(Method::GET, path, headers, Bytes::new()).await
    }

    /// POSTs `form` (already `application/x-www-form-urlencoded`).
    pub async fn post_form(
        &mut self,
        path: &str,
        headers: &[(HeaderName, &str)],
        form: String,
    ) -> Result<Reply, String> {
        let mut all = headers.to_vec();
        all.push((CONTENT_TYPE, "application/x-www-form-urlencoded"));
        self.send(Method::POST, path, &all, Bytes::from(form)).await
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(HeaderName, &str)],
        body: Bytes,
    ) -> Result<Reply, String> {
        let mut request = Request::builder().method(method).uri(path).header(HOST, self.host.clone());
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        let request = request.body(Full::new(body)).map_err(|e| e.to_string())?;
        let sender = self.connect().await?;
        sender.ready().await.map_err(|e| e.to_string())?;
        let response = match sender.send_request(request).await {
            Ok(response) => response,
            Err(e) => {
                self.sender = None;
                return Err(format!("{path}: {e}"));
            }
        };
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(|e| format!("{path}: body: {e}"))?.to_bytes();
        Ok(Reply { status: parts.status, headers: parts.headers, body })
    }
}
