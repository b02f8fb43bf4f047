// Package sqlrun runs the SQL side of AWS Data Pipeline activities against
// real database servers: SqlActivity scripts, SqlDataNode copies to and from
// record streams, and RedshiftCopyActivity loads onto a PostgreSQL-protocol
// server. Callers pass already-evaluated field values as plain Go values.
//
// Secrets: the database password never appears in an error returned by this
// package; every error is scrubbed of the password (raw and URL-escaped) and
// of the DSN built from it.
package sqlrun

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers driver "pgx"
	_ "modernc.org/sqlite"             // registers driver "sqlite"
)

// Database types as they appear in a definition's `type` field.
const (
	TypeJdbc     = "JdbcDatabase"
	TypeRds      = "RdsDatabase"
	TypeRedshift = "RedshiftDatabase"
)

// Dialect is the SQL family of an open connection.
type Dialect string

// Supported dialects. Redshift is spoken to as PostgreSQL.
const (
	Postgres Dialect = "postgres"
	MySQL    Dialect = "mysql"
	SQLite   Dialect = "sqlite"
)

// Database holds the evaluated fields of a JdbcDatabase, RdsDatabase or
// RedshiftDatabase object (and of the connection fields of a deprecated
// MySqlDataNode, which the caller copies into a JdbcDatabase value).
type Database struct {
	Type             string // JdbcDatabase | RdsDatabase | RedshiftDatabase
	ID               string // object id, used in messages
	ConnectionString string // jdbc:... URL
	JdbcDriverClass  string
	Username         string
	Password         string // from *password; never printed
	DatabaseName     string
	RdsInstanceID    string
	ClusterID        string
	Region           string
	JdbcProperties   []string // "key=value"
}

// Options tune how a Database is reached.
type Options struct {
	// ResolveRDS maps an rdsInstanceId to "host:port" and the RDS engine name
	// (mysql, mariadb, postgres, aurora-mysql, aurora-postgresql, ...).
	ResolveRDS func(ctx context.Context, instanceID, region string) (endpoint, engine string, err error)
	// ResolveRedshift maps a Redshift clusterId to "host:port".
	ResolveRedshift func(ctx context.Context, clusterID, region string) (endpoint string, err error)
	// Endpoints is a local mapping from rdsInstanceId or clusterId to a full
	// connection string (jdbc:postgresql://127.0.0.1:5432/db, jdbc:sqlite:/tmp/x.db ...).
	// It is consulted before the resolvers.
	Endpoints map[string]string
	// ConnectTimeout bounds the first ping; 0 means 15s.
	ConnectTimeout time.Duration
}

// Conn is an open database handle plus what is needed to keep its secrets out
// of messages.
type Conn struct {
	DB      *sql.DB
	Dialect Dialect
	ID      string // database object id
	secrets []string
}

// Close releases the pool.
func (c *Conn) Close() error { return c.DB.Close() }

// Open resolves db to a driver DSN, opens it and pings it.
func Open(ctx context.Context, db Database, opts Options) (*Conn, error) {
	secrets := secretForms(db.Password)
	// A password written into the URL or jdbcProperties is a secret too.
	for _, p := range append(urlPasswords(db.ConnectionString), propPasswords(db.JdbcProperties)...) {
		secrets = append(secrets, secretForms(p)...)
	}
	target, err := resolveTarget(ctx, db, opts)
	if err != nil {
		return nil, scrubErr(secrets, fmt.Errorf("database %s: %w", db.ID, err))
	}
	for _, p := range urlPasswords(target) {
		secrets = append(secrets, secretForms(p)...)
	}
	driver, dsn, dialect, err := driverDSN(target, db)
	if err != nil {
		return nil, scrubErr(secrets, fmt.Errorf("database %s: %w", db.ID, err))
	}
	secrets = append(secrets, dsn)
	sqldb, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, scrubErr(secrets, fmt.Errorf("database %s: open: %w", db.ID, err))
	}
	if dialect == SQLite {
		// One writer at a time; a single connection also keeps temp tables visible.
		sqldb.SetMaxOpenConns(1)
	}
	timeout := opts.ConnectTimeout
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := sqldb.PingContext(pctx); err != nil {
		sqldb.Close()
		return nil, scrubErr(secrets, fmt.Errorf("database %s: connect to %s: %w", db.ID, redactURL(target), err))
	}
	return &Conn{DB: sqldb, Dialect: dialect, ID: db.ID, secrets: secrets}, nil
}

// resolveTarget returns the jdbc: URL to connect to.
func resolveTarget(ctx context.Context, db Database, opts Options) (string, error) {
	switch db.Type {
	case TypeJdbc, "":
		if db.ConnectionString == "" {
			return "", errors.New("connectionString is empty")
		}
		return db.ConnectionString, nil
	case TypeRedshift:
		if db.ConnectionString != "" && db.ClusterID != "" {
			return "", errors.New("clusterId and connectionString are mutually exclusive")
		}
		if db.ConnectionString != "" {
			return db.ConnectionString, nil
		}
		if db.ClusterID == "" {
			return "", errors.New("one of clusterId and connectionString is required")
		}
		if s, ok := opts.Endpoints[db.ClusterID]; ok {
			return s, nil
		}
		if opts.ResolveRedshift == nil {
			return "", fmt.Errorf("clusterId %q: no endpoint mapping and no Redshift resolver (use --backend aws or map the cluster to a connection string)", db.ClusterID)
		}
		ep, err := opts.ResolveRedshift(ctx, db.ClusterID, db.Region)
		if err != nil {
			return "", fmt.Errorf("resolve clusterId %q: %w", db.ClusterID, err)
		}
		return "jdbc:redshift://" + ep + "/" + db.DatabaseName, nil
	case TypeRds:
		if db.RdsInstanceID == "" {
			return "", errors.New("rdsInstanceId is empty")
		}
		if s, ok := opts.Endpoints[db.RdsInstanceID]; ok {
			return s, nil
		}
		if opts.ResolveRDS == nil {
			return "", fmt.Errorf("rdsInstanceId %q: no endpoint mapping and no RDS resolver (use --backend aws or map the instance to a connection string)", db.RdsInstanceID)
		}
		ep, engine, err := opts.ResolveRDS(ctx, db.RdsInstanceID, db.Region)
		if err != nil {
			return "", fmt.Errorf("resolve rdsInstanceId %q: %w", db.RdsInstanceID, err)
		}
		scheme, err := schemeForEngine(engine)
		if err != nil {
			return "", fmt.Errorf("rdsInstanceId %q: %w", db.RdsInstanceID, err)
		}
		return "jdbc:" + scheme + "://" + ep + "/" + db.DatabaseName, nil
	default:
		return "", fmt.Errorf("unsupported database type %q", db.Type)
	}
}

func schemeForEngine(engine string) (string, error) {
	e := strings.ToLower(engine)
	switch {
	case strings.Contains(e, "postgres"):
		return "postgresql", nil
	case strings.Contains(e, "mariadb"):
		return "mariadb", nil
	case strings.Contains(e, "mysql"), e == "aurora":
		return "mysql", nil
	default:
		return "", fmt.Errorf("RDS engine %q is not supported (supported: mysql, mariadb, postgres)", engine)
	}
}

// driverDSN maps a jdbc: URL to a database/sql driver name and DSN.
func driverDSN(jdbc string, db Database) (driver, dsn string, d Dialect, err error) {
	rest, ok := strings.CutPrefix(jdbc, "jdbc:")
	if !ok {
		//lint:ignore ST1005 ends with the scheme it wants, "jdbc:"
		return "", "", "", fmt.Errorf("connection string %q does not start with jdbc:", redactURL(jdbc))
	}
	scheme, body, _ := strings.Cut(rest, ":")
	props, err := parseProps(db.JdbcProperties)
	if err != nil {
		return "", "", "", err
	}
	switch strings.ToLower(scheme) {
	case "postgresql", "redshift":
		dsn, err := pgDSN(body, db, props, strings.EqualFold(scheme, "redshift"))
		return "pgx", dsn, Postgres, err
	case "mysql", "mariadb":
		dsn, err := mysqlDSN(body, db, props)
		return "mysql", dsn, MySQL, err
	case "sqlite":
		path := body
		if path == "" {
			//lint:ignore ST1005 ends with the SQLite name ":memory:"
			return "", "", "", errors.New("jdbc:sqlite: needs a file path or :memory:")
		}
		if path == ":memory:" {
			return "sqlite", "file::memory:", SQLite, nil
		}
		return "sqlite", "file:" + path + "?_pragma=busy_timeout(10000)", SQLite, nil
	default:
		drv := ""
		if db.JdbcDriverClass != "" {
			drv = " (jdbcDriverClass " + db.JdbcDriverClass + ")"
		}
		return "", "", "", fmt.Errorf("JDBC URL scheme jdbc:%s%s is not supported; supported: postgresql, redshift, mysql, mariadb, sqlite", scheme, drv)
	}
}

func parseProps(list []string) ([][2]string, error) {
	var out [][2]string
	for _, p := range list {
		k, v, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("jdbcProperties entry %q is not key=value", p)
		}
		out = append(out, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
	}
	return out, nil
}

// splitJdbcURL splits "//host:port/db?k=v&..." (or "db") into its parts.
func splitJdbcURL(body string, defPort int) (host string, port int, dbname string, q [][2]string, err error) {
	host, port = "localhost", defPort
	rest := body
	if r, ok := strings.CutPrefix(body, "//"); ok {
		hp := r
		if i := strings.IndexAny(r, "/?"); i >= 0 {
			hp, rest = r[:i], r[i:]
		} else {
			rest = ""
		}
		// Credentials inside the URL are not supported: they belong in username / *password.
		if i := strings.LastIndex(hp, "@"); i >= 0 {
			hp = hp[i+1:]
		}
		if hp != "" {
			h, p, e := net.SplitHostPort(hp)
			if e != nil {
				h = strings.Trim(hp, "[]")
			} else {
				n, e := strconv.Atoi(p)
				if e != nil {
					return "", 0, "", nil, fmt.Errorf("bad port %q", p)
				}
				port = n
			}
			host = h
		}
		rest = strings.TrimPrefix(rest, "/")
	}
	dbname, query, _ := strings.Cut(rest, "?")
	for _, kv := range strings.FieldsFunc(query, func(r rune) bool { return r == '&' || r == ';' }) {
		k, v, _ := strings.Cut(kv, "=")
		if uv, e := url.QueryUnescape(v); e == nil {
			v = uv
		}
		q = append(q, [2]string{k, v})
	}
	return host, port, dbname, q, nil
}

func pgDSN(body string, db Database, props [][2]string, redshift bool) (string, error) {
	def := 5432
	if redshift {
		def = 5439
	}
	host, port, dbname, q, err := splitJdbcURL(body, def)
	if err != nil {
		return "", err
	}
	if dbname == "" {
		dbname = db.DatabaseName
	}
	if dbname == "" {
		dbname = "postgres"
	}
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: "/" + dbname}
	if db.Username != "" {
		u.User = url.UserPassword(db.Username, db.Password)
	}
	v := url.Values{}
	v.Set("sslmode", "prefer")
	// Translate the pgJDBC properties that have a libpq equivalent; the rest
	// (tcpKeepAlive, loginTimeout, ...) would be sent to the server as unknown
	// runtime parameters and fail the connection, so they are dropped.
	for _, kv := range append(q, props...) {
		switch strings.ToLower(kv[0]) {
		case "ssl":
			if kv[1] == "true" {
				v.Set("sslmode", "require")
			}
		case "sslmode":
			v.Set("sslmode", kv[1])
		case "connecttimeout":
			v.Set("connect_timeout", kv[1])
		case "applicationname":
			v.Set("application_name", kv[1])
		case "currentschema":
			v.Set("search_path", kv[1])
		case "user":
			if db.Username == "" {
				_, pw := userPass(u, db.Password)
				u.User = url.UserPassword(kv[1], pw)
			}
		case "password":
			if db.Password == "" && u.User != nil {
				u.User = url.UserPassword(u.User.Username(), kv[1])
			} else if db.Password == "" {
				db.Password = kv[1]
			}
		}
	}
	if u.User == nil && db.Password != "" {
		// user given only by the URL's user= after password=
		u.User = url.UserPassword("", db.Password)
	}
	u.RawQuery = v.Encode()
	return u.String(), nil
}

func mysqlDSN(body string, db Database, props [][2]string) (string, error) {
	host, port, dbname, q, err := splitJdbcURL(body, 3306)
	if err != nil {
		return "", err
	}
	if dbname == "" {
		dbname = db.DatabaseName
	}
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(host, strconv.Itoa(port))
	cfg.User = db.Username
	cfg.Passwd = db.Password
	cfg.DBName = dbname
	cfg.AllowNativePasswords = true
	cfg.ParseTime = false // values come back as text, which is what the formats write
	for _, kv := range append(q, props...) {
		switch strings.ToLower(kv[0]) {
		case "usessl", "requiressl":
			if kv[1] == "true" {
				cfg.TLSConfig = "preferred"
			}
		case "connecttimeout":
			if ms, e := strconv.Atoi(kv[1]); e == nil {
				cfg.Timeout = time.Duration(ms) * time.Millisecond
			}
		case "user":
			if cfg.User == "" {
				cfg.User = kv[1]
			}
		case "password":
			if cfg.Passwd == "" {
				cfg.Passwd = kv[1]
			}
		}
	}
	return cfg.FormatDSN(), nil
}

func userPass(u url.URL, def string) (string, string) {
	if u.User == nil {
		return "", def
	}
	if p, ok := u.User.Password(); ok {
		return u.User.Username(), p
	}
	return u.User.Username(), def
}

// urlPasswords returns password=... values and user:password@ parts of a URL.
func urlPasswords(s string) []string {
	var out []string
	_, query, _ := strings.Cut(s, "?")
	for _, kv := range strings.FieldsFunc(query, func(r rune) bool { return r == '&' || r == ';' }) {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.EqualFold(k, "password") && v != "" {
			out = append(out, v)
			if uv, err := url.QueryUnescape(v); err == nil && uv != v {
				out = append(out, uv)
			}
		}
	}
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		if end := strings.IndexAny(rest, "/?"); end >= 0 {
			rest = rest[:end]
		}
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if _, p, ok := strings.Cut(rest[:at], ":"); ok && p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func propPasswords(props []string) []string {
	var out []string
	for _, p := range props {
		if k, v, ok := strings.Cut(p, "="); ok && strings.EqualFold(strings.TrimSpace(k), "password") && v != "" {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// redactURL hides a password embedded in a URL-like string.
func redactURL(s string) string {
	for _, p := range urlPasswords(s) {
		s = strings.ReplaceAll(s, p, mask)
	}
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		end := strings.IndexAny(rest, "/?")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
			if c := strings.Index(rest[:at], ":"); c >= 0 {
				return s[:i+3] + rest[:c] + ":********" + rest[at:]
			}
		}
	}
	return s
}
