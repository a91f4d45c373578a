package metrics

import (
	"strconv"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// codeOther is the code label of every error code outside knownCodes.
const codeOther = "other"

// knownCodes are the error codes bridges answer with themselves (the
// README's error-code table, and natpunch's 403 and 429). A peer or a remote
// service may answer with any other code; were each its own label value, a
// peer could grow the series without bound.
var knownCodes = [...]int{
	connector.CodeBadRequest, 403, connector.CodeNotFound, connector.CodeTooLarge, wire.CodeRateLimited,
	connector.CodeInternal, connector.CodeBadGateway, connector.CodeUnavailable, connector.CodeTimeout,
}

// codeLabel returns the code label value of code: itself if known, else
// "other".
func codeLabel(code int) string {
	for _, k := range knownCodes {
		if code == k {
			return strconv.Itoa(code)
		}
	}
	return codeOther
}
