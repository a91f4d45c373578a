package natsconn

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// serverInfo is what the Conn reads of the server's INFO.
type serverInfo struct {
	ServerID     string `json:"server_id"`
	Proto        int    `json:"proto"`
	MaxPayload   int    `json:"max_payload"`
	Headers      bool   `json:"headers"`
	AuthRequired bool   `json:"auth_required"`
	TLSRequired  bool   `json:"tls_required"`
	Nonce        string `json:"nonce"`
}

// connectInfo is the CONNECT the Conn sends.
type connectInfo struct {
	Verbose      bool   `json:"verbose"`
	Pedantic     bool   `json:"pedantic"`
	TLSRequired  bool   `json:"tls_required"`
	Name         string `json:"name,omitempty"`
	Lang         string `json:"lang"`
	Version      string `json:"version"`
	Protocol     int    `json:"protocol"`
	Echo         bool   `json:"echo"`
	Headers      bool   `json:"headers"`
	NoResponders bool   `json:"no_responders"`
	User         string `json:"user,omitempty"`
	Pass         string `json:"pass,omitempty"`
	Token        string `json:"auth_token,omitempty"`
	NKey         string `json:"nkey,omitempty"`
	JWT          string `json:"jwt,omitempty"`
	Sig          string `json:"sig,omitempty"`
}

// Version is sent in CONNECT, with the language "go-natsconn".
const Version = "0.1.0"

// longAgo is a deadline in the past, to abort blocked I/O.
var longAgo = time.Unix(1, 0)

// handshake reads INFO, upgrades to TLS if asked, sends CONNECT and PING
// and waits for the PONG, all bounded by ctx.
func (c *Conn) handshake(ctx context.Context) error {
	// Blocked I/O is aborted once ctx is done, not at its deadline, so an
	// I/O timeout is always seen as ctx's error.
	raw := c.conn // TLS may wrap c.conn meanwhile
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(longAgo) })
	err := c.runHandshake(ctx)
	if !stop() || ctx.Err() != nil {
		return fmt.Errorf("natsconn: handshake: %w", context.Cause(ctx))
	}
	if err != nil {
		return err
	}
	return c.conn.SetDeadline(time.Time{})
}

func (c *Conn) runHandshake(ctx context.Context) error {
	c.handshaking = true
	defer func() { c.handshaking = false }()
	if err := c.readUntil(&c.gotInfo); err != nil {
		return err
	}
	if err := c.startTLS(ctx); err != nil {
		return err
	}
	line, err := c.connectLine()
	if err != nil {
		return err
	}
	if _, err := c.conn.Write(append(line, "PING\r\n"...)); err != nil {
		return fmt.Errorf("%w: handshake: %w", ErrConnectionLost, err)
	}
	return c.readUntil(&c.gotPong)
}

// readUntil reads and parses until *flag is set.
func (c *Conn) readUntil(flag *bool) error {
	for !*flag {
		n, err := c.conn.Read(c.rbuf)
		if n > 0 {
			if perr := c.parser.parse(c.rbuf[:n]); perr != nil {
				return perr
			}
		}
		if err != nil && !*flag {
			return fmt.Errorf("%w: handshake: %w", ErrConnectionLost, err)
		}
	}
	return nil
}

// info reads the server's INFO during the handshake; later INFOs (cluster
// changes, lame duck mode) are ignored.
func (c *Conn) info(arg []byte) error {
	if !c.handshaking || c.gotInfo {
		return nil
	}
	if err := json.Unmarshal(arg, &c.server); err != nil {
		return fmt.Errorf("%w: INFO: %w", ErrProtocol, err)
	}
	c.parser.setMaxPayload(c.server.MaxPayload)
	c.gotInfo = true
	return nil
}

func (c *Conn) startTLS(ctx context.Context) error {
	if c.opts.TLSConfig == nil {
		if c.server.TLSRequired {
			return ErrTLSRequired
		}
		return nil
	}
	tc := tls.Client(c.conn, c.opts.TLSConfig)
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("natsconn: TLS handshake: %w", err)
	}
	c.conn = tc
	return nil
}

// connectLine returns "CONNECT {...}\r\n".
func (c *Conn) connectLine() ([]byte, error) {
	o := c.opts
	ci := connectInfo{
		TLSRequired: o.TLSConfig != nil, Name: o.Name, Lang: "go-natsconn", Version: Version,
		Protocol: 1, Echo: true, Headers: true, NoResponders: true,
		User: o.User, Pass: o.Password, Token: o.Token, NKey: o.NKey, JWT: o.UserJWT,
	}
	if o.Sign != nil {
		if c.server.Nonce == "" {
			return nil, errors.New("natsconn: nkey authentication, but the server sent no nonce")
		}
		sig, err := o.Sign([]byte(c.server.Nonce))
		if err != nil {
			return nil, fmt.Errorf("natsconn: signing the nonce: %w", err)
		}
		ci.Sig = base64.RawURLEncoding.EncodeToString(sig)
	}
	js, err := json.Marshal(ci)
	if err != nil {
		return nil, fmt.Errorf("natsconn: CONNECT: %w", err)
	}
	return append(append([]byte("CONNECT "), js...), "\r\n"...), nil
}
