//! Framing and body encoding.
//!
//! A frame is a 4-byte big-endian body length followed by the body. A body is a [`Request`] or
//! [`Reply`] encoded with bincode 2's `standard()` configuration (little-endian varints).
//!
//! [`FrameCodec`] differs from a plain length-delimited codec in what it does with bad input: an
//! oversized frame is skipped (its request id is read first so the error reply can echo it) and a
//! frame cut short by end-of-stream is reported, so the server can answer both with an error and
//! keep serving.

use crate::message::{ErrorCode, Op, Reply, Request, OP_COUNT};
use bincode::config::{Configuration, LittleEndian, Limit, Varint};
use bytes::{Buf, BufMut, BytesMut};
use std::io;
use tokio_util::codec::{Decoder, Encoder};

/// The default largest body the daemon accepts (64 MiB).
pub const DEFAULT_MAX_FRAME: usize = 64 << 20;

/// Largest allocation a decoded body may claim. Bodies are at most a configured frame length,
/// but a lying length prefix inside a small body must not make the decoder allocate without bound.
const DECODE_LIMIT: usize = 1 << 30;

type WireConfig = Configuration<LittleEndian, Varint, Limit<DECODE_LIMIT>>;

fn config() -> WireConfig {
    bincode::config::standard().with_limit::<DECODE_LIMIT>()
}

/// One unit read off a connection.
#[derive(Debug, PartialEq)]
pub enum Frame {
    /// A complete body, ready for [`decode_request`] or [`decode_reply`].
    Body(BytesMut),
    /// A frame longer than the limit. Its body is being skipped; `id` is the request id read
    /// from its first bytes, when they could be read.
    TooLarge { id: Option<u64>, len: usize },
    /// The stream ended inside a frame.
    Truncated { expected: usize, got: usize },
}

/// Reads and writes frames; see the module documentation for its handling of bad input.
#[derive(Debug)]
pub struct FrameCodec {
    max_frame: usize,
    /// Bytes of an oversized frame still to discard.
    skipping: usize,
}

impl FrameCodec {
    /// A codec refusing bodies longer than `max_frame` bytes (capped at 1 GiB).
    pub fn new(max_frame: usize) -> Self {
        FrameCodec { max_frame: max_frame.min(DECODE_LIMIT), skipping: 0 }
    }

    /// Whether the codec is inside a frame: discarding the rest of an oversized one. A stall
    /// here is a stall inside a frame, even though no bytes are buffered.
    pub fn is_skipping(&self) -> bool {
        self.skipping > 0
    }

    fn skip_available(&mut self, buf: &mut BytesMut) {
        let n = self.skipping.min(buf.len());
        buf.advance(n);
        self.skipping -= n;
    }
}

/// Longest encoding of a `u64` varint: a marker byte and eight bytes.
const MAX_VARINT: usize = 9;

impl Decoder for FrameCodec {
    type Item = Frame;
    type Error = io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> io::Result<Option<Frame>> {
        self.skip_available(buf);
        if self.skipping > 0 || buf.len() < 4 {
            return Ok(None);
        }
        let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if len > self.max_frame {
            // Wait for the id's bytes (or the whole short body) so the reply can carry it.
            let id_bytes = len.min(MAX_VARINT);
            if buf.len() < 4 + id_bytes {
                return Ok(None);
            }
            let id = bincode::decode_from_slice::<u64, _>(&buf[4..4 + id_bytes], config())
                .ok()
                .map(|(id, _)| id);
            buf.advance(4);
            self.skipping = len;
            self.skip_available(buf);
            return Ok(Some(Frame::TooLarge { id, len }));
        }
        if buf.len() < 4 + len {
            buf.reserve(4 + len - buf.len());
            return Ok(None);
        }
        buf.advance(4);
        Ok(Some(Frame::Body(buf.split_to(len))))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> io::Result<Option<Frame>> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        if self.skipping > 0 || buf.is_empty() {
            buf.clear();
            return Ok(None);
        }
        let expected = if buf.len() >= 4 {
            u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize
        } else {
            4
        };
        let got = buf.len().saturating_sub(4);
        buf.clear();
        Ok(Some(Frame::Truncated { expected, got }))
    }
}

impl Encoder<Vec<u8>> for FrameCodec {
    type Error = io::Error;

    fn encode(&mut self, body: Vec<u8>, dst: &mut BytesMut) -> io::Result<()> {
        let len = u32::try_from(body.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "body longer than 4 GiB"))?;
        dst.reserve(4 + body.len());
        dst.put_u32(len);
        dst.put_slice(&body);
        Ok(())
    }
}

/// Why a body could not be turned into a [`Request`]: what to answer, and to which id.
#[derive(Debug, Clone, PartialEq)]
pub struct BodyError {
    /// The request id when it could be read, else 0.
    pub id: u64,
    pub code: ErrorCode,
    pub message: String,
}

/// Encodes a request body (without the length prefix).
pub fn encode_request(request: &Request) -> Vec<u8> {
    bincode::encode_to_vec(request, config()).expect("encoding into a Vec cannot fail")
}

/// Encodes a reply body (without the length prefix).
pub fn encode_reply(reply: &Reply) -> Vec<u8> {
    bincode::encode_to_vec(reply, config()).expect("encoding into a Vec cannot fail")
}

/// Decodes a request body. An unknown operation is a `bad_request` carrying the request id; any
/// other damage (including trailing bytes) is a `bad_frame`.
pub fn decode_request(body: &[u8]) -> Result<Request, BodyError> {
    let bad_frame = |id: u64, what: String| BodyError { id, code: ErrorCode::BadFrame, message: what };
    let (id, used) = bincode::decode_from_slice::<u64, _>(body, config())
        .map_err(|e| bad_frame(0, format!("cannot read the request id: {e}")))?;
    let rest = &body[used..];
    if let Ok((op, _)) = bincode::decode_from_slice::<u32, _>(rest, config()) {
        if op >= OP_COUNT {
            return Err(BodyError {
                id,
                code: ErrorCode::BadRequest,
                message: format!("unknown operation {op} (this daemon knows 0..{})", OP_COUNT - 1),
            });
        }
    }
    let (op, used) = bincode::decode_from_slice::<Op, _>(rest, config())
        .map_err(|e| bad_frame(id, format!("cannot decode the request: {e}")))?;
    if used != rest.len() {
        return Err(bad_frame(id, format!("{} unexpected bytes after the request", rest.len() - used)));
    }
    Ok(Request { id, op })
}

/// Decodes a reply body; trailing bytes are an error.
pub fn decode_reply(body: &[u8]) -> Result<Reply, String> {
    let (reply, used) = bincode::decode_from_slice::<Reply, _>(body, config())
        .map_err(|e| format!("cannot decode the reply: {e}"))?;
    if used != body.len() {
        return Err(format!("{} unexpected bytes after the reply", body.len() - used));
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Hello, ReplyBody};

    fn framed(body: &[u8]) -> BytesMut {
        let mut buf = BytesMut::new();
        FrameCodec::new(64).encode(body.to_vec(), &mut buf).unwrap();
        buf
    }

    #[test]
    fn a_frame_arriving_in_pieces_decodes_once_complete() {
        let whole = framed(b"hello");
        let mut codec = FrameCodec::new(64);
        let mut buf = BytesMut::from(&whole[..6]);
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
        buf.extend_from_slice(&whole[6..]);
        assert_eq!(codec.decode(&mut buf).unwrap(), Some(Frame::Body(BytesMut::from(&b"hello"[..]))));
    }

    #[test]
    fn an_oversized_frame_is_reported_with_its_id_and_skipped() {
        let big = encode_request(&Request { id: 300, op: Op::Hello(Hello { protocol_version: 1, client: "x".repeat(100) }) });
        let mut buf = framed(&big);
        buf.extend_from_slice(&framed(&encode_request(&Request { id: 7, op: Op::Ping })));
        let mut codec = FrameCodec::new(64);
        assert_eq!(codec.decode(&mut buf).unwrap(), Some(Frame::TooLarge { id: Some(300), len: big.len() }));
        let Some(Frame::Body(next)) = codec.decode(&mut buf).unwrap() else { panic!("the next frame is lost") };
        assert_eq!(decode_request(&next).unwrap(), Request { id: 7, op: Op::Ping });
    }

    #[test]
    fn end_of_stream_inside_a_frame_is_reported_as_truncated() {
        let whole = framed(b"hello world");
        let mut buf = BytesMut::from(&whole[..8]);
        let mut codec = FrameCodec::new(64);
        assert_eq!(codec.decode_eof(&mut buf).unwrap(), Some(Frame::Truncated { expected: 11, got: 4 }));
        assert_eq!(codec.decode_eof(&mut buf).unwrap(), None);
    }

    #[test]
    fn an_unknown_operation_is_a_bad_request_that_keeps_the_id() {
        let err = decode_request(&[42, 13]).unwrap_err();
        assert_eq!((err.id, err.code), (42, ErrorCode::BadRequest));
        assert!(err.message.contains("unknown operation 13"), "{}", err.message);
    }

    #[test]
    fn a_longer_than_needed_varint_decodes_to_its_value() {
        // Found by fuzzing: id 73 written in the u16 form. Accepted (bincode's rule); clients
        // always write the shortest form, which the vectors pin down.
        let request = decode_request(&[0xfb, 0x49, 0x00, 0x01]).unwrap();
        assert_eq!(request, Request { id: 73, op: Op::Ping });
        assert_eq!(encode_request(&request), vec![0x49, 0x01]);
    }

    #[test]
    fn trailing_bytes_and_garbage_are_bad_frames() {
        let mut body = encode_request(&Request { id: 1, op: Op::Ping });
        body.push(0);
        assert_eq!(decode_request(&body).unwrap_err().code, ErrorCode::BadFrame);
        assert_eq!(decode_request(&[0xff, 0xff]).unwrap_err().code, ErrorCode::BadFrame);
        assert!(decode_reply(&[0x05, 0x09]).is_err());
    }

    #[test]
    fn a_lying_length_inside_a_small_body_is_refused_without_allocating_it() {
        // id 1, op Compress, messages length claimed as u64::MAX.
        let body = [1u8, 2, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(decode_request(&body).unwrap_err().code, ErrorCode::BadFrame);
        let reply = Reply { id: 1, body: ReplyBody::Pong };
        assert_eq!(decode_reply(&encode_reply(&reply)).unwrap(), reply);
    }
}
