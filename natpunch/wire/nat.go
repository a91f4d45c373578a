package wire

// NAT behaviour in the words of RFC 4787.
const (
	MappingIndependent   = "endpoint-independent"
	MappingDependent     = "address-and-port-dependent"
	FilteringIndependent = "endpoint-independent"
	// FilteringDependent is address-dependent or address-and-port-dependent
	// filtering; telling those apart takes a gateway address with the same IP
	// and another port.
	FilteringDependent = "address-dependent or stricter"
	Unknown            = "unknown"
)
