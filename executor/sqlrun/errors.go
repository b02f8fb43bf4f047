package sqlrun

import (
	"errors"
	"net/url"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

const mask = "********"

// Error is what every exported function returns on failure: a message with
// the connection's secrets replaced by ********. It deliberately does not
// unwrap to the driver error, whose text may quote the DSN.
type Error struct {
	msg string
	// Code is the server's error code when known (PostgreSQL SQLSTATE or
	// MySQL error number), for callers that classify failures.
	Code string
}

func (e *Error) Error() string { return e.msg }

// secretForms lists the spellings of a password that could leak into text.
func secretForms(pw string) []string {
	if pw == "" {
		return nil
	}
	forms := []string{pw, url.QueryEscape(pw), url.PathEscape(pw), url.UserPassword("u", pw).String()[2:]}
	out := forms[:0]
	for _, f := range forms {
		if f != "" && !contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// scrubErr converts err into an *Error without any of the secrets. Longer
// secrets (whole DSNs) are replaced first so their parts do not survive.
func scrubErr(secrets []string, err error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) && already == err {
		return err
	}
	msg := err.Error()
	var pe *pgconn.PgError
	var me *mysql.MySQLError
	if errors.As(err, &pe) {
		// Detail and Where locate the problem (e.g. "COPY t, line 2, column a").
		if pe.Detail != "" {
			msg += "; detail: " + pe.Detail
		}
		if pe.Where != "" {
			msg += "; where: " + pe.Where
		}
	}
	out := &Error{msg: scrub(secrets, msg)}
	switch {
	case pe != nil:
		out.Code = pe.Code
	case errors.As(err, &me):
		out.Code = itoa(int(me.Number))
	case errors.As(err, &already):
		out.Code = already.Code
	}
	return out
}

func scrub(secrets []string, msg string) string {
	sorted := append([]string(nil), secrets...)
	// longest first
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && len(sorted[j]) > len(sorted[j-1]); j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	for _, s := range sorted {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, mask)
		}
	}
	return msg
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// fail is the scrubbing helper bound to a connection.
func (c *Conn) fail(err error) error { return scrubErr(c.secrets, err) }

// Redact masks this connection's secrets in s, for callers that log text
// (statements, messages) related to the connection.
func (c *Conn) Redact(s string) string { return scrub(c.secrets, s) }
