package discordtest

import (
	"fmt"
	"net/http"
)

// apiError is a Discord JSON error: {"message": ..., "code": ...} with an
// HTTP status. Codes follow Discord's JSON error codes.
type apiError struct {
	Status  int            `json:"-"`
	Code    int            `json:"code"`
	Message string         `json:"message"`
	Errors  map[string]any `json:"errors,omitempty"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("discord %d: %s (code %d)", e.Status, e.Message, e.Code)
}

// errInvalidForm is Discord's 50035 "Invalid Form Body" naming one field.
func errInvalidForm(field, msg string) *apiError {
	return &apiError{
		Status:  http.StatusBadRequest,
		Code:    50035,
		Message: "Invalid Form Body",
		Errors: map[string]any{field: map[string]any{
			"_errors": []map[string]string{{"code": "BASE_TYPE_INVALID", "message": msg}},
		}},
	}
}

func errUnknown(what string, code int) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: code, Message: "Unknown " + what}
}

var (
	errUnauthorized    = &apiError{Status: http.StatusUnauthorized, Code: 0, Message: "401: Unauthorized"}
	errNotFoundRoute   = &apiError{Status: http.StatusNotFound, Code: 0, Message: "404: Not Found"}
	errUnknownChannel  = errUnknown("Channel", 10003)
	errUnknownGuild    = errUnknown("Guild", 10004)
	errUnknownMember   = errUnknown("Member", 10007)
	errUnknownMessage  = errUnknown("Message", 10008)
	errUnknownUser     = errUnknown("User", 10013)
	errUnknownWebhook  = errUnknown("Webhook", 10015)
	errUnknownEmoji    = errUnknown("Emoji", 10014)
	errUnknownInteract = errUnknown("interaction", 10062)
	errAlreadyAcked    = &apiError{Status: http.StatusBadRequest, Code: 40060, Message: "Interaction has already been acknowledged."}
	errInvalidWebhook  = &apiError{Status: http.StatusUnauthorized, Code: 50027, Message: "Invalid Webhook Token"}
	errCannotDM        = &apiError{Status: http.StatusForbidden, Code: 50007, Message: "Cannot send messages to this user"}
	errNotAuthor       = &apiError{Status: http.StatusForbidden, Code: 50005, Message: "Cannot edit a message authored by another user"}
	errEmptyMessage    = &apiError{Status: http.StatusBadRequest, Code: 50006, Message: "Cannot send an empty message"}
)
