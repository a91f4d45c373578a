// Package codec defines peerbridge's wire frames and how they travel on a
// QUIC stream.
//
// A frame on the wire is
//
//	length  uint32, big endian: the number of bytes that follow
//	version uint8:  the frame format version, [Version]
//	envLen  uvarint: the length of the envelope
//	envelope        msgpack array: kind, type, id, headers, timeout, code, error
//	payload         the rest: opaque bytes, never re-encoded
//
// The length is checked against the reader's limit before anything is
// allocated, so a peer cannot make us allocate more than the limit. Decoding
// errors are sentinel errors ([ErrFrameTooLarge], [ErrUnknownVersion],
// [ErrMalformed]) that callers match with errors.Is.
package codec
