package sqlrun

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Integration tests reach real servers through these variables, which
// .ci/databases.sh exports. Without them the tests skip loudly.
const (
	envPG    = "DPL_TEST_PG_DSN"
	envMySQL = "DPL_TEST_MYSQL_DSN"
)

func randName(prefix string) string {
	var b [5]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// pgAdmin returns the parsed admin DSN or skips.
func pgAdmin(t testing.TB) *url.URL {
	t.Helper()
	dsn := os.Getenv(envPG)
	if dsn == "" {
		t.Skipf("SKIPPING PostgreSQL test: %s is unset (run `source .ci/databases.sh`)", envPG)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", envPG, err)
	}
	return u
}

// newPG creates a throwaway PostgreSQL database and returns its definition
// (as a JdbcDatabase) and an open Conn; both are dropped after the test.
func newPG(t testing.TB) (Database, *Conn) {
	t.Helper()
	u := pgAdmin(t)
	admin, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		t.Skipf("SKIPPING PostgreSQL test: server in %s unreachable: %v", envPG, scrub(secretForms(pwOf(u)), err.Error()))
	}
	name := randName("dpl_test_")
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	db := Database{Type: TypeJdbc, ID: "TestPG", ConnectionString: "jdbc:postgresql://" + u.Host + "/" + name + "?tcpKeepAlive=true",
		JdbcDriverClass: "org.postgresql.Driver", Username: u.User.Username(), Password: pw}
	c, err := Open(context.Background(), db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	})
	return db, c
}

func pwOf(u *url.URL) string { p, _ := u.User.Password(); return p }

// newMySQL creates a throwaway MariaDB/MySQL database.
func newMySQL(t testing.TB) (Database, *Conn) {
	t.Helper()
	dsn := os.Getenv(envMySQL)
	if dsn == "" {
		t.Skipf("SKIPPING MariaDB/MySQL test: %s is unset (run `source .ci/databases.sh`)", envMySQL)
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("%s: %v", envMySQL, err)
	}
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		t.Skipf("SKIPPING MariaDB/MySQL test: server in %s unreachable: %v", envMySQL, scrub(secretForms(cfg.Passwd), err.Error()))
	}
	name := randName("dpl_test_")
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(cfg.Addr)
	db := Database{Type: TypeJdbc, ID: "TestMySQL", ConnectionString: "jdbc:mysql://" + host + ":" + port + "/" + name + "?useSSL=false",
		JdbcDriverClass: "com.mysql.jdbc.Driver", Username: cfg.User, Password: cfg.Passwd}
	c, err := Open(context.Background(), db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		admin.Exec("DROP DATABASE IF EXISTS " + name)
		admin.Close()
	})
	return db, c
}

// newSQLite opens a fresh database file in a temp dir.
func newSQLite(t testing.TB) (Database, *Conn) {
	t.Helper()
	db := Database{Type: TypeJdbc, ID: "TestSQLite", ConnectionString: "jdbc:sqlite:" + filepath.Join(t.TempDir(), "test.db")}
	c, err := Open(context.Background(), db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return db, c
}

// eachDialect runs fn against a fresh database of every kind.
func eachDialect(t *testing.T, fn func(t *testing.T, c *Conn)) {
	for _, k := range []struct {
		name string
		open func(testing.TB) (Database, *Conn)
	}{{"postgres", newPG}, {"mariadb", newMySQL}, {"sqlite", newSQLite}} {
		t.Run(k.name, func(t *testing.T) {
			_, c := k.open(t)
			fn(t, c)
		})
	}
}

func mustExec(t testing.TB, c *Conn, q string, args ...any) {
	t.Helper()
	if _, err := c.DB.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// dump returns a table's rows as "a|b|c" lines in order of the first column.
func dump(t testing.TB, c *Conn, q string) string {
	t.Helper()
	rows, err := c.DB.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	types, _ := rows.ColumnTypes()
	var lines []string
	vals := make([]any, len(types))
	ptrs := make([]any, len(types))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			f := formatValue(nil, v, strings.ToUpper(types[i].DatabaseTypeName()))
			if f.Null {
				parts[i] = "NULL"
			} else {
				parts[i] = string(f.B)
			}
		}
		lines = append(lines, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
