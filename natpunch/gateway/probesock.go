package gateway

import (
	"errors"
	"fmt"
	"net"
)

// sharedPortTries bounds the attempts to find an ephemeral port number free
// for both TCP and UDP.
const sharedPortTries = 16

// listenSet binds the UDP address a and, on the same IP, a socket on an
// ephemeral port for answering filtering probes; with tcp it also binds the
// TCP relay's listener on the same port number. For port 0 the port is one
// free for both protocols: TCP picks it, UDP takes the same number, and a
// number UDP cannot have is given back and another tried.
func listenSet(a string, tcp bool) (u, alt *net.UDPConn, ln net.Listener, err error) {
	laddr, err := net.ResolveUDPAddr("udp", a)
	if err != nil {
		return nil, nil, nil, err
	}
	switch {
	case !tcp:
		u, err = net.ListenUDP("udp", laddr)
	case laddr.Port != 0:
		if u, err = net.ListenUDP("udp", laddr); err == nil {
			if ln, err = net.Listen("tcp", laddr.String()); err != nil {
				u.Close()
				err = fmt.Errorf("TCP relay: %w", err)
			}
		}
	default:
		u, ln, err = listenSharedPort(laddr)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if alt, err = net.ListenUDP("udp", &net.UDPAddr{IP: laddr.IP, Zone: laddr.Zone}); err != nil {
		u.Close()
		if ln != nil {
			ln.Close()
		}
		return nil, nil, nil, err
	}
	return u, alt, ln, nil
}

// listenSharedPort binds TCP and UDP on laddr's IP and one ephemeral port
// number free for both.
func listenSharedPort(laddr *net.UDPAddr) (*net.UDPConn, net.Listener, error) {
	host := ""
	if laddr.IP != nil {
		host = laddr.IP.String()
	}
	var errs []error
	for range sharedPortTries {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, nil, fmt.Errorf("TCP relay: %w", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		u, err := net.ListenUDP("udp", &net.UDPAddr{IP: laddr.IP, Port: port, Zone: laddr.Zone})
		if err == nil {
			return u, ln, nil
		}
		ln.Close()
		errs = append(errs, err)
	}
	return nil, nil, fmt.Errorf("no port free for both TCP and UDP in %d tries: %w", sharedPortTries, errors.Join(errs...))
}
